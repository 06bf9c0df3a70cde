"""What a source's observations were computed from, as one checksum (OWID's etl does the same):
its deliveries (names, SHA-256, modification times), the edition's end, the municipality, the
pseudonym key's version, the code and configuration, and the checksums of the other sources its
indicators draw on. A refresh whose checksum for a source matches the last load's reuses that
source's stored observations instead of reading its files again; only aggregates are kept for
this, which the warehouse already holds.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import cast

from barometer.sources.staged import Delivery

# The packages whose code or data decide what a source's observations are.
COMPUTING_PACKAGES = [
    "barometer.config",
    "barometer.sources",
    "barometer.validations",
    "barometer.transforms",
    "barometer.flows",
    "barometer.warehouse",
]
SUFFIXES = (".py", ".yaml", ".geojson", ".csv")


@cache
def code_version() -> str:
    """Checksum of the code and configuration that compute observations (once per process)."""
    digest = hashlib.sha256()
    for package in COMPUTING_PACKAGES:
        root = cast(Path, files(package))  # an installed package is a folder on disk
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)):
            digest.update(f"{package}/{path.relative_to(root)}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(
    source: str,
    deliveries: list[Delivery],
    until: date,
    municipality_code: str,
    key_version: str,
    dependencies: dict[str, str | None],
) -> str:
    """One checksum of everything `source`'s observations depend on."""
    parts = [source, until.isoformat(), municipality_code, key_version, code_version()]
    parts += [f"{d.name}\0{d.sha256}\0{d.modified!r}\0{d.problem is not None}" for d in deliveries]
    parts += [f"{name}={checksum}" for name, checksum in sorted(dependencies.items())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
