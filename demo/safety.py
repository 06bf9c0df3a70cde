"""Synthetic safety-index workbooks for 2009-2013, one per year, in the centre for crime
prevention's layout: a cover sheet, then `Tryghedsindeks` with a title and notes above the table
and a footnote below it.

Calibrated by construction: each year's number of areas per need level is chosen, and every
area's score is drawn inside its level's band (from config), so 5.2 is 12 in 2010 and 7 in 2012,
and 5.1 is 5 in 2012 and 3 in 2013, with the three 2013 areas the status report names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from barometer.config import source_config
from barometer.demo.common import COPENHAGEN, landing_folder, spell
from barometer.sources.safety import NAME, SPEC
from openpyxl import Workbook

# Areas ordered from the highest need down; the first three are 2013's marked areas.
AREAS = [
    ("Indre By sydvest til Kgs. Nytorv", 1),
    ("Vesterbro omkring Hovedbanegården", 4),
    ("Indre Nørrebro vest for Nørrebrogade", 3),
    ("Nordvest", 8),
    ("Tingbjerg", 7),
    ("Urbanplanen", 10),
    ("Sydhavnen", 4),
    ("Ydre Nørrebro", 3),
    ("Folehaven", 5),
    ("Husum", 7),
    ("Nørrebro Park", 3),
    ("Kongens Enghave", 4),
    ("Christianshavn", 1),
    ("Bispebjerg Bakke", 8),
    ("Østerbro syd", 2),
    ("Østerbro nord", 2),
    ("Nordhavn", 2),
    ("Indre By nord", 1),
    ("Frederiksstaden", 1),
    ("Vesterbro vest", 4),
    ("Valby øst", 5),
    ("Valby vest", 5),
    ("Vigerslev", 5),
    ("Vanløse nord", 6),
    ("Vanløse syd", 6),
    ("Brønshøj", 7),
    ("Bellahøj", 7),
    ("Emdrup", 8),
    ("Utterslev", 8),
    ("Sundby nord", 9),
    ("Sundby syd", 9),
    ("Kastrup Fort", 9),
    ("Islands Brygge", 10),
    ("Ørestad", 10),
    ("Amager Fælled", 10),
    ("Sundbyvester", 10),
]
# Areas per need level (highest first, as in config), per year.
LEVEL_COUNTS = {
    2009: [7, 7, 15, 4, 2],
    2010: [6, 6, 13, 3, 2],
    2011: [5, 4, 12, 3, 1],
    2012: [5, 2, 10, 2, 1],
    2013: [3, 2, 8, 2, 1],
}
TEXT_NUMBERS_YEAR = 2011  # this year's workbook holds its numbers as text with decimal commas
FILE_NAMES = [
    "Tryghedsindeks_endelig.xlsx",
    "tryghedsindeks-data.xlsx",
    "TI udtræk (2).xlsx",
    "Kopi af Tryghedsindeks.xlsx",
    "indeks til barometer.xlsx",
]


def write(
    landing: Path,
    seed: int = 2013,
    *,
    municipality: str = COPENHAGEN,
    level_counts: dict[int, list[int]] = LEVEL_COUNTS,
    areas: list[tuple[str, int]] = AREAS,
) -> None:
    """One workbook per year. Another municipality's `level_counts` and `areas` (in
    LEVEL_COUNTS' and AREAS' form) give it its own; its district cells are empty."""
    rng = np.random.default_rng(seed)
    folder = landing_folder(landing, NAME)
    for (year, counts), file_name in zip(level_counts.items(), FILE_NAMES, strict=False):
        _write_workbook(folder / file_name, year, _areas(year, counts, areas, rng, municipality))


def _areas(
    year: int, counts: list[int], catalogue: list[tuple[str, int]], rng: np.random.Generator, municipality: str
) -> pd.DataFrame:
    """The year's areas with scores inside their levels' bands: the most needy areas take the
    top two levels in catalogue order, a random draw of the others the remaining levels."""
    top = counts[0] + counts[1]
    others = rng.choice(np.arange(top, len(catalogue)), size=sum(counts) - top, replace=False)
    chosen = np.concatenate([np.arange(top), others])
    levels = np.repeat(np.arange(len(counts)), counts)
    levels[top:] = rng.permutation(levels[top:])
    low, high = _score_bands()
    index = rng.uniform(low[levels] + 0.5, high[levels] - 0.5).round(1)
    areas = pd.DataFrame(
        {
            "name": [catalogue[i][0] for i in chosen],
            "district": [catalogue[i][1] for i in chosen],
            "score": index,
            "reports": (index * rng.uniform(0.7, 1.0, len(index))).round(1),
            "insecure": (index / 8 + rng.uniform(-3, 3, len(index))).clip(1, 60).round(1),
        }
    ).sort_values(["district", "name"], ignore_index=True)
    areas["spelling"] = spell(areas["district"], rng, municipality=municipality)
    return areas


def _score_bands() -> tuple[np.ndarray, np.ndarray]:
    """Each need level's [low, high) band of index scores, from the configured lower bounds."""
    bounds = [level["min_index"] for level in source_config(NAME)["need_levels"]][:-1]
    low = np.array(bounds + [bounds[-1] * 0.5], dtype=float)
    high = np.array([bounds[0] * 1.4] + bounds, dtype=float)
    return low, high


def _write_workbook(path: Path, year: int, areas: pd.DataFrame) -> None:
    workbook = Workbook()
    cover = workbook.active
    cover.title = "Forside"
    cover.append([f"Tryghedsindeks {year}"])
    cover.append(["Center for Kriminalforebyggelse, Københavns Kommune"])
    sheet = workbook.create_sheet(SPEC.format.sheet)
    for line in [
        f"Tryghedsindeks {year}: behov for kriminalpræventiv indsats fordelt på områder",
        "Indekset er beregnet, så byens gennemsnit = 100.",
        "Områdeinddelingen ændres fra år til år; Område-ID gælder kun for det enkelte år.",
        None,
    ]:
        sheet.append([line])
    sheet.append(SPEC.table("safety_areas").headers)
    number = _as_text if year == TEXT_NUMBERS_YEAR else float
    for area_id, area in enumerate(areas.itertuples(), start=1):
        sheet.append(
            [area_id, area.name, area.spelling, year, number(area.score), number(area.reports), number(area.insecure)]
        )
    sheet.append([None])
    sheet.append(["Anmeldelser: politiets anmeldelser pr. 1.000 indbyggere. Utryghed: andel utrygge i området."])
    workbook.save(path)


def _as_text(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")
