"""The sources a refresh runs, listed: each is a module a tool can follow, with its `SPEC`,
`read`, `validate` and `transform()` (sources/protocol.py says what each must have).

The StatBank sources come first: file sources after them may draw on their tables (3.1 on
employment's). Adding a source is adding its module here (docs/adding-a-source.md).
"""

from __future__ import annotations

from types import ModuleType

from barometer.config import source_config
from barometer.sources import (
    childcare,
    employment,
    grades,
    safety,
    school_enrolment,
    survey,
    workforce,
    youth_education,
)
from barometer.sources.spec import StatBankSpec

SOURCES: tuple[ModuleType, ...] = (
    employment,
    youth_education,
    grades,
    school_enrolment,
    childcare,
    survey,
    safety,
    workforce,
)
# Fetched from StatBank rather than delivered as files.
STATBANK_SOURCES = [source.NAME for source in SOURCES if isinstance(getattr(source, "SPEC", None), StatBankSpec)]


def by_name(name: str) -> ModuleType:
    for source in SOURCES:
        if source.NAME == name:
            return source
    raise ValueError(f"unknown source {name!r}; the sources are {', '.join(all_sources())}")


def file_sources() -> list[str]:
    return [source.NAME for source in SOURCES if source.NAME not in STATBANK_SOURCES]


def all_sources() -> list[str]:
    return file_sources() + STATBANK_SOURCES


def module(layer: str, source: str) -> ModuleType:
    """`sources.grades`, `validations.grades`, `transforms.grades` … for a known source only."""
    import importlib

    owner = by_name(source)
    if layer == "sources" or (layer == "validations" and hasattr(owner, "validate")):
        return owner
    if layer not in ("validations", "transforms"):
        raise ValueError(f"unknown layer {layer!r}")
    return importlib.import_module(f"barometer.{layer}.{source}")


def landing_folder(name: str) -> str:
    source = by_name(name)
    spec = getattr(source, "SPEC", None)
    return spec.folder if spec else source_config(name)["landing"]


def computed_from(name: str) -> dict[str, list[str]]:
    """Per table, the columns its transforms read (kept once validated)."""
    spec = getattr(by_name(name), "SPEC", None)
    return spec.computed_from if spec else source_config(name).get("computed_from", {})
