"""Synthetic deliveries in the sources' real formats, calibrated to the published figures, and a
local StatBank stand-in: everything the demo and the tests need to run offline."""

from __future__ import annotations

import importlib
from pathlib import Path

from barometer.sources.registry import file_sources


def generate(landing: Path, statbank_dir: Path, seed: int = 2013) -> None:
    """Write every file source's demo deliveries and the demo KAS201 table."""
    for source in file_sources():
        importlib.import_module(f"barometer.demo.{source}").write(landing, seed)
    importlib.import_module("barometer.demo.employment").write_statbank(statbank_dir, seed)
