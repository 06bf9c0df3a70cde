"""Which sources exist and where their code lives: the file sources are the entries of
config/sources.yaml with a landing folder; the employment source is fetched from StatBank."""

from __future__ import annotations

import importlib
from types import ModuleType

from barometer.config.catalogue import sources_file

STATBANK_SOURCES = ["employment"]


def file_sources() -> list[str]:
    return [name for name, entry in sources_file().items() if isinstance(entry, dict) and "landing" in entry]


def all_sources() -> list[str]:
    return file_sources() + STATBANK_SOURCES


def module(layer: str, source: str) -> ModuleType:
    """`sources.grades`, `validations.grades`, `transforms.grades` … for a known source only."""
    if source not in all_sources() or layer not in ("sources", "validations", "transforms"):
        raise ValueError(f"unknown source {source!r} or layer {layer!r}")
    return importlib.import_module(f"barometer.{layer}.{source}")
