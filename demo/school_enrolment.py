"""Synthetic November pupil registers 2010-2013 (folders of two UTF-8-with-BOM `;` CSVs),
calibrated so indicator 1.3 reproduces the published 50 (2011) and 49 (2012).

Calibration is by construction: each year a fixed number of public schools get a bilingual
share 14-22 points from their district's, the rest within 5 points; the district's share is
then made exact by the children outside public schools (private, special or no school), whose
number is raised where the public schools alone would push the district off its target.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from barometer.config import load_districts
from barometer.demo.common import (
    COPENHAGEN,
    birth_dates,
    cpr_numbers,
    has_districts,
    landing_folder,
    place_name,
    spell,
)
from barometer.sources.school_enrolment import NAME, SPEC

REFERENCE_DATES = [date(2010, 11, 5), date(2011, 11, 4), date(2012, 11, 5), date(2013, 11, 5)]
# (deviating public schools, public schools with pupils) per November: 31/60, 30/60, 29/59, 28/59
DEVIATING = {2010: 31, 2011: 30, 2012: 29, 2013: 28}
CLOSING_YEAR = 2012  # one public school is still listed but has no pupils; gone the year after
# district -> (public schools, bilingual share of resident children in 2010)
DISTRICTS = {
    1: (4, 0.14),
    2: (7, 0.13),
    3: (7, 0.46),
    4: (6, 0.31),
    5: (7, 0.29),
    6: (4, 0.19),
    7: (6, 0.36),
    8: (6, 0.47),
    9: (6, 0.24),
    10: (7, 0.40),
}
SHARE_DRIFT = 0.005  # per year
NAME_SUFFIXES = ["Nord", "Syd", "Park", "Have", "Mark", "Sø", "Bakke"]
OTHER_SCHOOLS = {
    "Privatskole": [
        "Den Lille Skole",
        "Friskolen på Hjørnet",
        "Sankt Jørgens Privatskole",
        "Lærkeskolen",
        "Ørestad Friskole",
        "Skolen i Kløverhaven",
        "Den Franske Skole",
        "Møllegårdens Privatskole",
        "Strandvejens Realskole",
        "Bøgeskolen",
    ],
    "Specialskole": ["Specialskolen Åbrinken", "Heldagsskolen Kæret", "Skolen ved Søerne"],
}
AWAY_SHARE = 0.08  # public-school pupils living in another district
OUTSIDE_SHARE = 0.33  # children outside public schools, per public-school child, at least
NO_SCHOOL_SHARE = 0.08  # of the children outside public schools
SPECIAL_SHARE = 0.04
UNKNOWN_HOME = 5  # children with no registered district, per year
AGES = (6, 16)  # the register's children
HYPHENATED = 0.65  # share of CPR numbers written with the hyphen
DELIVERIES = [
    ("BUF elevudtræk", "skoler.csv", "elever.csv"),
    ("elevregister_levering", "skoler_udtraek.csv", "elever_udtraek.csv"),
    ("Udtræk til barometer", "skoler-liste.csv", "elever-bopael.csv"),
    ("skoledata_final", "skolerBUF.csv", "eleverBUF.csv"),
]


def write(
    landing: Path,
    seed: int = 2013,
    size: float = 1.0,
    public_schools: float = 1.0,
    *,
    municipality: str = COPENHAGEN,
    deviating: dict[int, int] = DEVIATING,
    districts: dict[int, tuple[int, float]] = DISTRICTS,
) -> None:
    """One folder per November. For benchmarks, `size` multiplies the number of pupils and
    `public_schools` the number of public schools (and of those that deviate); only the default
    sizes reproduce the published figures. Another municipality's `deviating` and `districts`
    (DEVIATING's and DISTRICTS' form, districts numbered from 1) give it its own levels and
    layout; its schools are numbered in its own thousand (its code first) and named after it,
    its district cells empty."""
    rng = np.random.default_rng(seed)
    folder = landing_folder(landing, NAME)
    schools = _school_list(rng, public_schools, size / public_schools, municipality, districts)
    order = rng.permutation(schools.index[(schools["type"] == "Folkeskole") & ~schools["closing"]])
    for reference_date, (delivery, schools_file, pupils_file) in zip(REFERENCE_DATES, DELIVERIES, strict=False):
        year = reference_date.year
        listed = schools[~schools["closing"] | (year <= CLOSING_YEAR)]
        deviators = set(order[: round(deviating[year] * public_schools)])
        pupils = _pupils(rng, listed, deviators, year, _district_shares(districts, year), round(UNKNOWN_HOME * size))
        _write_delivery(
            rng, folder / delivery, (schools_file, pupils_file), listed, pupils, reference_date, municipality
        )


def _school_list(
    rng: np.random.Generator,
    public_schools: float,
    pupils_per_school: float,
    municipality: str,
    districts: dict[int, tuple[int, float]],
) -> pd.DataFrame:
    """Every school ever listed: public schools per district (at least one), then private and
    special schools; the multipliers scale the public schools' number and everyone's size."""
    public = [
        ("Folkeskole", d, i)
        for d, (count, _) in districts.items()
        for i in range(max(1, round(count * public_schools)))
    ]
    other = [(name, kind, int(rng.integers(1, 11))) for kind, names in OTHER_SCHOOLS.items() for name in names]
    schools = pd.DataFrame(_named(public, municipality) + other, columns=["name", "type", "district"])
    first = int(municipality) * 1000 + 1
    numbers = np.arange(first, max(first + 998, first + 2 * len(schools)))  # room to draw from
    schools["number"] = rng.choice(numbers, len(schools), replace=False).astype(str)
    schools["size"] = np.rint(rng.integers(230, 430, len(schools)) * pupils_per_school).astype(int)
    schools["closing"] = False
    schools.loc[rng.choice(len(public)), "closing"] = True
    return schools


def _named(public: list[tuple[str, int, int]], municipality: str) -> list[tuple[str, str, int]]:
    """(type, district, number in district) -> (name, type, district): named after the district,
    or where there are none, after the municipality, numbered through."""
    if has_districts(municipality):
        official = load_districts(municipality).names
        return [(f"{official[d]} {_school_suffix(i)} Skole", kind, d) for kind, d, i in public]
    place = place_name(municipality)
    return [(f"{place} {_school_suffix(i)} Skole", kind, d) for i, (kind, d, _) in enumerate(public)]


def _school_suffix(index: int) -> str:
    """'Nord', 'Syd', … and, for a district with more schools than suffixes, 'Nord 2', …"""
    suffix = NAME_SUFFIXES[index % len(NAME_SUFFIXES)]
    return suffix if index < len(NAME_SUFFIXES) else f"{suffix} {index // len(NAME_SUFFIXES) + 1}"


def _district_shares(districts: dict[int, tuple[int, float]], year: int) -> pd.Series:
    return pd.Series({d: share + SHARE_DRIFT * (year - 2010) for d, (_, share) in districts.items()})


def _pupils(
    rng: np.random.Generator, listed: pd.DataFrame, deviating: set, year: int, shares: pd.Series, unknown_home: int
) -> pd.DataFrame:
    """Columns school (number or ''), district (number or 0 for none known) and bilingual."""
    public = listed[(listed["type"] == "Folkeskole") & ~(listed["closing"] & (year == CLOSING_YEAR))]
    enrolled = _public_pupils(rng, public, shares, deviating)
    outside = _outside_pupils(rng, enrolled, shares, listed[listed["type"] != "Folkeskole"])
    unknown = pd.DataFrame({"school": "", "district": 0, "bilingual": rng.random(unknown_home) < 0.3})
    return pd.concat([enrolled, outside, unknown], ignore_index=True)


def _public_pupils(rng: np.random.Generator, public: pd.DataFrame, shares: pd.Series, deviating: set) -> pd.DataFrame:
    """Each public school's pupils: an exact bilingual count, 14-22 points off the district's
    share (upwards where the district share is low, downwards where high) if it deviates,
    within 5 points otherwise."""
    district_share = public["district"].map(shares).to_numpy()
    either = rng.choice([-1, 1], len(public))
    sign = np.where(district_share < 0.2, 1, np.where(district_share > 0.42, -1, either))
    offset = np.where(
        public.index.isin(list(deviating)),
        sign * rng.uniform(0.14, 0.22, len(public)),
        rng.uniform(-0.05, 0.05, len(public)),
    )
    size = np.maximum(public["size"].to_numpy() + rng.integers(-20, 21, len(public)), 1)
    bilingual = np.rint(np.clip(district_share + offset, 0, 1) * size).astype(int)
    school = np.repeat(public.index.to_numpy(), size)
    rank = pd.Series(school).groupby(school).cumcount().to_numpy()
    home = np.repeat(public["district"].to_numpy(), size)
    away = rng.random(len(school)) < AWAY_SHARE
    districts = len(shares)
    if districts > 1:  # numbered from 1
        home[away] = (home[away] + rng.integers(1, districts, away.sum()) - 1) % districts + 1  # any other district
    return pd.DataFrame(
        {
            "school": public.loc[school, "number"].to_numpy(),
            "district": home,
            "bilingual": rank < np.repeat(bilingual, size),
        }
    )


def _outside_pupils(
    rng: np.random.Generator, enrolled: pd.DataFrame, shares: pd.Series, others: pd.DataFrame
) -> pd.DataFrame:
    """Resident children outside public schools, as many and as bilingual as it takes to give
    each district exactly its target share."""
    counts = enrolled.groupby("district")["bilingual"].agg(["size", "sum"])
    size, bilingual = counts["size"], counts["sum"]
    needed = pd.concat(
        [OUTSIDE_SHARE * size, bilingual / shares - size, (shares * size - bilingual) / (1 - shares)], axis=1
    ).max(axis=1)
    outside = np.ceil(needed).astype(int) + 1  # + 1: strictly inside the bounds
    outside_bilingual = np.rint(shares * (size + outside)).astype(int) - bilingual
    assert ((outside_bilingual >= 0) & (outside_bilingual <= outside)).all()
    district = np.repeat(outside.index.to_numpy(), outside)
    rank = pd.Series(district).groupby(district).cumcount().to_numpy()
    private = others[others["type"] == "Privatskole"]["number"].to_numpy()
    special = others[others["type"] == "Specialskole"]["number"].to_numpy()
    kind = rng.choice(3, len(district), p=[1 - NO_SCHOOL_SHARE - SPECIAL_SHARE, SPECIAL_SHARE, NO_SCHOOL_SHARE])
    school = np.select(
        [kind == 0, kind == 1], [rng.choice(private, len(district)), rng.choice(special, len(district))], ""
    )
    return pd.DataFrame(
        {"school": school, "district": district, "bilingual": rank < np.repeat(outside_bilingual.to_numpy(), outside)}
    )


def _write_delivery(
    rng: np.random.Generator,
    folder: Path,
    files: tuple[str, str],
    schools: pd.DataFrame,
    pupils: pd.DataFrame,
    reference_date: date,
    municipality: str,
) -> None:
    schools_file, pupils_file = files
    folder.mkdir(parents=True, exist_ok=True)
    school_rows = schools.sample(frac=1, random_state=rng)
    _write_csv(
        pd.DataFrame(
            SPEC.table("schools").as_delivered(
                {
                    "school_number": school_rows["number"],
                    "school_name": school_rows["name"],
                    "district_name": spell(school_rows["district"], rng, municipality=municipality),
                    "school_type": school_rows["type"],
                }
            )
        ),
        folder / schools_file,
    )
    pupil_rows = pupils.sample(frac=1, random_state=rng, ignore_index=True)
    birth = birth_dates(rng.integers(AGES[0], AGES[1] + 1, len(pupil_rows)), reference_date, rng)
    _write_csv(
        pd.DataFrame(
            SPEC.table("pupils").as_delivered(
                {
                    "person_id": cpr_numbers(birth, rng, HYPHENATED),
                    "school_number": pupil_rows["school"],
                    "district_name": spell(pupil_rows["district"], rng, municipality=municipality),
                    "bilingual_code": np.where(pupil_rows["bilingual"], "J", "N"),
                    "reference_date": reference_date.isoformat(),
                }
            )
        ),
        folder / pupils_file,
    )


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """In the spec's format (UTF-8 with byte-order mark, `;`-separated), CRLF line ends."""
    with path.open("w", encoding=SPEC.format.encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=SPEC.format.separator, lineterminator="\r\n")
        writer.writerow(frame.columns)
        writer.writerows(frame.to_numpy().tolist())
