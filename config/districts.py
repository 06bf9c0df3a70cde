"""Copenhagen's ten districts from the city's GeoJSON, and the mapping of the many ways sources
spell them ('Vesterbro/Kgs. Enghave', 'AMAGER VEST ') onto the official numbers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

GEOJSON = Path(__file__).parent / "copenhagen_districts.geojson"

# Spellings seen in deliveries that normalisation alone does not reach.
ALIASES = {
    "vesterbro": 4,
    "kongens enghave": 4,
    "brønshøj": 7,
    "husum": 7,
    "christianshavn": 1,
}


def normalise_name(name: str) -> str:
    """Case, spacing, punctuation and the 'Kgs.' abbreviation folded away."""
    text = str(name).casefold().strip()
    text = text.replace("kgs.", "kongens ").replace("kgs ", "kongens ")
    text = re.sub(r"[/\-–,.]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Districts:
    municipality_code: str
    names: dict[int, str]  # number -> official name

    def area_code(self, number: int) -> str:
        return f"{self.municipality_code}-{number:02d}"

    def lookup(self) -> dict[str, int]:
        table = {normalise_name(name): number for number, name in self.names.items()}
        table.update({normalise_name(alias): number for alias, number in ALIASES.items()})
        return table

    def to_numbers(self, names: pd.Series) -> pd.Series:
        """District numbers (nullable Int64) for names; unknown or empty names give <NA>."""
        lookup = self.lookup()
        distinct = pd.Series(names.dropna().unique())
        mapping = dict(zip(distinct, distinct.map(lambda n: lookup.get(normalise_name(n)))))
        return names.map(mapping).astype("Int64")


@cache
def load_districts(municipality_code: str = "101") -> Districts:
    features = json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]
    names = {int(f["properties"]["bydel_nr"]): f["properties"]["navn"] for f in features}
    if sorted(names) != list(range(1, 11)):
        raise ValueError(f"{GEOJSON} must hold districts 1-10 once each (property bydel_nr); it holds {sorted(names)}.")
    return Districts(municipality_code=municipality_code, names=names)
