"""The 98 Danish municipalities (Statistics Denmark's codes), shipped as configuration.

Every code path takes a municipality's name, region and size from here; none assumes 101.
`population_thousands_approx` sizes synthetic data only; it is never a published figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

MUNICIPALITIES_CSV = Path(__file__).parent / "municipalities.csv"
ALL_DENMARK = "000"  # StatBank's code for the whole country: the area and municipality of national rows
ALL_DENMARK_NAME = "Hele landet"


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str
    region: str
    population_thousands: int


@cache
def municipalities() -> dict[str, Municipality]:
    """code -> Municipality, in the file's order."""
    frame = pd.read_csv(MUNICIPALITIES_CSV, sep=";", dtype=str, encoding="utf-8")
    return {
        row.municipality_code: Municipality(
            row.municipality_code, row.name, row.region, int(row.population_thousands_approx)
        )
        for row in frame.itertuples(index=False)
    }


def municipality(code: str) -> Municipality:
    """One municipality by code; an unknown code says where the list lives."""
    try:
        return municipalities()[code]
    except KeyError:
        raise ValueError(
            f"{code!r} is not a Danish municipality code (see {MUNICIPALITIES_CSV.name}: 101 is København)"
        ) from None


def name_of(code: str) -> str:
    """A municipality's name, or the country's for ALL_DENMARK."""
    return ALL_DENMARK_NAME if code == ALL_DENMARK else municipality(code).name


def parse_municipalities(text: str) -> list[str]:
    """'101,147' or 'all' -> codes, checked and in the list's order."""
    if text.strip().lower() == "all":
        return list(municipalities())
    codes = {code.strip().zfill(3) for code in text.split(",") if code.strip()}
    for code in codes:
        municipality(code)
    return [code for code in municipalities() if code in codes]
