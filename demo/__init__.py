"""Synthetic deliveries in the sources' real formats, calibrated to the published figures, and a
local StatBank stand-in: everything the demo and the tests need to run offline."""

from __future__ import annotations

from pathlib import Path


def generators() -> tuple:
    """Each file source's demo generator (a module with `NAME` and `write(landing, seed, ...)`),
    in the registry's order. Imported on use: the demo modules import this package."""
    from barometer.demo import childcare, grades, safety, school_enrolment, survey, workforce, youth_education

    return (youth_education, grades, school_enrolment, childcare, survey, safety, workforce)


def generate(landing: Path, statbank_dir: Path, seed: int = 2013) -> None:
    """Write every file source's demo deliveries and the demo KAS201 table."""
    from barometer.demo.employment import write_statbank

    for generator in generators():
        generator.write(landing, seed)
    write_statbank(statbank_dir, seed)
