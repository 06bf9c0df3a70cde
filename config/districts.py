"""Each municipality's districts, optional, from its GeoJSON in config/, and the mapping of the
many ways sources spell them ('Vesterbro/Kgs. Enghave', 'AMAGER VEST ') onto the official numbers.

A municipality's map is `config/districts_<code>.geojson` (Copenhagen's keeps the name it was
published under): one feature per district, property `bydel_nr` its number (1, 2, … once each)
and `navn` its official name. A municipality without a map is published city-wide only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

CONFIG_DIR = Path(__file__).parent
GEOJSON = CONFIG_DIR / "copenhagen_districts.geojson"
NAMED_MAPS = {"101": GEOJSON}  # maps named before the pattern districts_<code>.geojson

# Spellings seen in a municipality's deliveries that normalisation alone does not reach.
ALIASES = {
    "101": {
        "vesterbro": 4,
        "kongens enghave": 4,
        "brønshøj": 7,
        "husum": 7,
        "christianshavn": 1,
    },
}


def normalise_name(name: str) -> str:
    """Case, spacing, punctuation and the 'Kgs.' abbreviation folded away."""
    text = str(name).casefold().strip()
    text = text.replace("kgs.", "kongens ").replace("kgs ", "kongens ")
    text = re.sub(r"[/\-–,.]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def municipality_of(area_codes: pd.Series) -> pd.Series:
    """The municipality an area belongs to: '101-03' -> '101', '101' -> '101', '000' -> '000'."""
    return area_codes.astype(str).str.split("-", n=1).str[0]


@dataclass(frozen=True)
class Districts:
    municipality_code: str
    names: dict[int, str]  # number -> official name; empty: the municipality has no districts

    def area_code(self, number: int) -> str:
        return f"{self.municipality_code}-{number:02d}"

    def lookup(self) -> dict[str, int]:
        table = {normalise_name(name): number for number, name in self.names.items()}
        aliases = ALIASES.get(self.municipality_code, {})
        table.update({normalise_name(alias): number for alias, number in aliases.items()})
        return table

    def to_numbers(self, names: pd.Series) -> pd.Series:
        """District numbers (nullable Int64) for names; unknown or empty names give <NA>, and so
        does every name where the municipality has no districts."""
        lookup = self.lookup()
        codes, distinct = pd.factorize(names)  # a name per distinct spelling, not per row
        numbers = pd.array([lookup.get(normalise_name(name)) for name in distinct], dtype="Int64")
        return pd.Series(numbers.take(codes, allow_fill=True), index=names.index)


def district_map(municipality_code: str) -> Path:
    """Where a municipality's district map is, whether or not it has one."""
    return NAMED_MAPS.get(municipality_code, CONFIG_DIR / f"districts_{municipality_code}.geojson")


@cache
def load_districts(municipality_code: str) -> Districts:
    path = district_map(municipality_code)
    if not path.exists():
        return Districts(municipality_code=municipality_code, names={})
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    names = {int(f["properties"]["bydel_nr"]): f["properties"]["navn"] for f in features}
    if sorted(names) != list(range(1, len(features) + 1)):
        raise ValueError(
            f"{path} must hold districts 1-{len(features)} once each (property bydel_nr); it holds {sorted(names)}."
        )
    if municipality_code in ALIASES and not set(ALIASES[municipality_code].values()) <= set(names):
        raise ValueError(f"{path}: the aliases in config/districts.py name districts it does not hold.")
    return Districts(municipality_code=municipality_code, names=names)


def has_districts(municipality_code: str) -> bool:
    """Whether the municipality has a district list; without one it is published city-wide only
    and what is compared with a district is compared with the whole municipality."""
    return bool(load_districts(municipality_code).names)
