"""childcare: the place-allocation system's extract, February and November.

A delivery is a folder with two comma-separated, quoted UTF-8 files: the institutions
(`institutioner*.csv`) and every resident child aged 0-13 with the institution they attend
(`boern*.csv`, empty institution: none). The reference date is read from the children's file and
stamped on both tables.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from barometer.config import load_districts
from barometer.sources.base import (
    ROW,
    Delivery,
    StagedDelivery,
    age_on,
    blank_as_missing,
    folder_file,
    read_csv,
    single_reference_date,
    stripped,
)
from barometer.sources.errors import DeliveryError
from barometer.sources.origin import origin_group
from barometer.sources.pseudonym import PseudonymKey, pseudonymise_cpr

NAME = "childcare"
TABLES = ["institutions", "children"]
# table -> the glob that finds its file in the delivery folder (the sender chooses the rest)
FILES = {"institutions": "institutioner*.csv", "children": "boern*.csv"}
INSTITUTION_COLUMNS = ["institution_id", "navn", "type", "bydel"]
CHILD_COLUMNS = ["cpr", "foedselsdato", "herkomst", "bopaelsbydel", "institution_id", "opgoerelsesdato"]
SEPARATOR = ","


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str = "101") -> StagedDelivery:
    children = read_children(delivery, key, municipality_code)
    reference_date = children["reference_date"].iloc[0]
    institutions = read_institutions(delivery, reference_date, municipality_code)
    return StagedDelivery(delivery, reference_date, {"institutions": institutions, "children": children}, key.version)


def read_institutions(delivery: Delivery, reference_date: date, municipality_code: str) -> pd.DataFrame:
    path, file = folder_file(delivery, FILES["institutions"])
    raw = read_csv(path, file, INSTITUTION_COLUMNS, sep=SEPARATOR)
    return pd.DataFrame(
        {
            ROW: raw[ROW],
            "institution_id": stripped(raw["institution_id"]),
            "name": stripped(raw["navn"]),
            "type": stripped(raw["type"]),
            "district_name": stripped(raw["bydel"]),
            "district": load_districts(municipality_code).to_numbers(raw["bydel"]),
            "reference_date": reference_date,
        }
    )


def read_children(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> pd.DataFrame:
    path, file = folder_file(delivery, FILES["children"])
    raw = read_csv(path, file, CHILD_COLUMNS, sep=SEPARATOR, prepare=pseudonymise_cpr("cpr", file, key))
    reference_date = single_reference_date(raw["opgoerelsesdato"], file, "opgoerelsesdato", raw[ROW])
    birth_date = _birth_dates(raw, file)
    return pd.DataFrame(
        {
            ROW: raw[ROW],
            "person_id": raw["person_id"],
            "birth_date": birth_date.dt.date,
            "age": age_on(birth_date, reference_date),
            "origin": stripped(raw["herkomst"]),
            "origin_group": origin_group(raw["herkomst"]),
            "district_name": stripped(raw["bopaelsbydel"]),
            "district": load_districts(municipality_code).to_numbers(raw["bopaelsbydel"]),
            "institution_id": blank_as_missing(raw["institution_id"]),  # empty: in none
            "reference_date": reference_date,
        }
    )


def _birth_dates(raw: pd.DataFrame, file: str) -> pd.Series:
    """`foedselsdato` where given (ISO dates), else the date the CPR number encodes."""
    given = raw["foedselsdato"].str.strip()
    parsed = pd.to_datetime(given, format="%Y-%m-%d", errors="coerce")
    unreadable = (given != "") & parsed.isna()
    if unreadable.any():
        raise DeliveryError(
            file, "date of birth is empty or a date (YYYY-MM-DD)", "foedselsdato", raw.loc[unreadable, ROW].tolist()
        )
    return parsed.fillna(pd.to_datetime(raw["cpr_birth_date"]))
