"""Synthetic place-allocation extracts, February and November 2010-2013 (folders of two quoted,
comma-separated UTF-8 CSVs), calibrated to the published 4.1-4.3 and 1.4 figures.

Who lives where, who is enrolled and in which institution is calibrated by construction
(`barometer.demo.childcare_calibration`); this module lays out the institutions and writes the
files. Only birth dates, origin categories, spellings, names, ids and CPR numbers are drawn at
random, so the figures do not depend on the seed.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from barometer.config import load_districts
from barometer.demo.childcare_calibration import (
    DAYCARE_INSTITUTIONS,
    DEVIATING,
    DISTRICTS,
    REFERENCE_DATES,
    TARGETS,
    bands,
    district_counts,
    placed_children,
)
from barometer.demo.common import (
    COPENHAGEN,
    apportion,
    birth_dates,
    cpr_numbers,
    has_districts,
    landing_folder,
    place_name,
    spell,
)
from barometer.sources.childcare import NAME, SPEC
from barometer.sources.origin import ORIGIN_GROUPS

DAYCARE_CYCLE = ["Integreret"] * 3 + ["Vuggestue"] + ["Integreret"] * 3 + ["Børnehave"]  # in rank order
SERVICE_TYPES = ["Fritidshjem", "KKFO", "Fritidsklub"]  # one of each per district
NAMES = {
    "Vuggestue": "Vuggestuen",
    "Børnehave": "Børnehaven",
    "Integreret": "Børnehuset",
    "Fritidshjem": "Fritidshjemmet",
    "KKFO": "KKFO",
    "Fritidsklub": "Klubben",
}
PLACE_NAMES = [
    "Solsikken",
    "Mælkebøtten",
    "Ærtebælgen",
    "Regnbuen",
    "Myretuen",
    "Søstjernen",
    "Ugleredet",
    "Kløverhuset",
    "Spiren",
    "Bikuben",
    "Trætoppen",
    "Åkanden",
    "Skovsneglen",
    "Rønnebærret",
]
MINORITY_ORIGINS = {
    "Efterkommer, ikke-vestlig": 0.55,
    "Indvandrer, ikke-vestlig": 0.15,
    "Efterkommer, vestlig": 0.15,
    "Indvandrer, vestlig": 0.15,
}
DANISH = "Dansk oprindelse"
BIRTH_DATE_GIVEN = 0.9  # the rest leave `foedselsdato` empty: age comes from the CPR number
HYPHENATED = 0.6


def write(
    landing: Path,
    seed: int = 2013,
    size: float = 1.0,
    *,
    municipality: str = COPENHAGEN,
    targets: dict = TARGETS,
    deviating: dict = DEVIATING,
    districts: dict = DISTRICTS,
    daycare_institutions: int = DAYCARE_INSTITUTIONS,
) -> None:
    """One folder per reference date, named as a sender might, with the two files inside.
    `size` multiplies the number of children (benchmarks); the institutions stay the same.
    Another municipality's `targets`, `deviating` and `districts` (in TARGETS', DEVIATING's and
    DISTRICTS' form) and its number of day-care institutions give it its own levels and layout;
    its institution ids are its own and its district cells empty."""
    rng = np.random.default_rng(seed)
    folder = landing_folder(landing, NAME)
    institutions = institution_list(rng, municipality, districts, daycare_institutions)
    calibrated = municipality == COPENHAGEN
    for reference_date in REFERENCE_DATES:
        token = rng.bytes(3).hex()
        delivery = folder / f"pladsanvisning_{token}"
        delivery.mkdir(exist_ok=True)
        counts = district_counts(reference_date, size, targets, calibrated, districts)
        children = placed_children(institutions, counts, deviating[reference_date], exact=calibrated and size == 1.0)
        write_csv(institution_rows(institutions, rng, municipality), delivery / f"institutioner_{token}.csv")
        write_csv(child_rows(children, reference_date, rng, municipality), delivery / f"boern_{token}.csv")


def institution_list(
    rng: np.random.Generator,
    municipality: str = COPENHAGEN,
    districts: dict = DISTRICTS,
    daycare_institutions: int = DAYCARE_INSTITUTIONS,
) -> pd.DataFrame:
    """Every institution, the same in each delivery: day care per district (cycling through the
    types), one after-school centre, KKFO and youth club per district, and one nursery that never
    has any children (it counts for no indicator)."""
    population = [share for share, _ in districts.values()]
    per_district = apportion(daycare_institutions, population)
    rows = [
        (district, DAYCARE_CYCLE[i % len(DAYCARE_CYCLE)], True)
        for district, count in zip(districts, per_district, strict=False)
        for i in range(count)
    ]
    rows += [(district, kind, False) for district in districts for kind in SERVICE_TYPES]
    rows.append((2, "Vuggestue", False))
    frame = pd.DataFrame(rows, columns=["district", "type", "daycare"])
    frame["institution_id"] = rng.choice(institution_ids(municipality), len(frame), replace=False).astype(str)
    prefix, place = frame["type"].map(NAMES), pd.Series(rng.choice(PLACE_NAMES, len(frame)))
    branch = ", afd. " + (  # commas and quotes in
        frame["district"].map(load_districts(municipality).names)
        if has_districts(municipality)
        else place_name(municipality)
    )
    frame["name"] = np.select(
        [frame.index % 7 == 3, frame.index % 11 == 5],  # names test the quoting
        [prefix + " " + place + branch, prefix + ' "' + place + '"'],
        prefix + " " + place,
    )
    return frame


def institution_ids(municipality: str) -> np.ndarray:
    """The ids to draw from: Copenhagen's six digits, another municipality's its code and four
    digits (seven in all), so no two municipalities share one."""
    if municipality == COPENHAGEN:
        return np.arange(100_000, 1_000_000)
    return int(municipality) * 10_000 + np.arange(10_000)


def institution_rows(institutions: pd.DataFrame, rng: np.random.Generator, municipality: str) -> pd.DataFrame:
    listed = institutions.sample(frac=1, random_state=rng, ignore_index=True)
    return pd.DataFrame(
        SPEC.table("institutions").as_delivered(
            {
                "institution_id": listed["institution_id"],
                "name": listed["name"],
                "type": listed["type"],
                "district_name": spell(listed["district"], rng, municipality=municipality),
            }
        )
    )


def child_rows(
    children: pd.DataFrame, reference_date: date, rng: np.random.Generator, municipality: str
) -> pd.DataFrame:
    children = children.sample(frac=1, random_state=rng, ignore_index=True)
    ages = {band: service["ages"] for band, service in bands().items()}
    low, high = (
        children["band"].map({band: bounds[end] for band, bounds in ages.items()}).to_numpy() for end in (0, 1)
    )
    birth = birth_dates(rng.integers(low, high + 1), reference_date, rng)
    given = rng.random(len(children)) < BIRTH_DATE_GIVEN
    return pd.DataFrame(
        SPEC.table("children").as_delivered(
            {
                "person_id": cpr_numbers(birth, rng, HYPHENATED),
                "birth_date": np.where(given, np.datetime_as_string(birth.to_numpy(), unit="D"), ""),
                "origin": origins(children["group"], rng),
                "district_name": spell(children["district"], rng, municipality=municipality),
                "institution_id": children["institution_id"].fillna(""),
                "reference_date": reference_date.isoformat(),
            }
        )
    )


def origins(groups: pd.Series, rng: np.random.Generator) -> np.ndarray:
    minority = rng.choice(list(MINORITY_ORIGINS), len(groups), p=list(MINORITY_ORIGINS.values()))
    assert set(MINORITY_ORIGINS) | {DANISH} == set(ORIGIN_GROUPS), "every origin category appears"
    return np.where(groups == "minority", minority, DANISH)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    form = SPEC.format
    frame.to_csv(
        path,
        sep=form.separator,
        index=False,
        encoding=form.encoding,
        quoting=csv.QUOTE_ALL if form.quoted else csv.QUOTE_MINIMAL,
    )
