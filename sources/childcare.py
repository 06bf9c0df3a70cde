"""childcare: the place-allocation system's extract, February and November.

A delivery is a folder with two comma-separated, quoted UTF-8 files: the institutions
(`institutioner*.csv`) and every resident child aged 0-13 with the institution they attend
(`boern*.csv`, empty institution: none). The reference date is read from the children's file and
stamped on both tables.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from barometer.sources.csv_export import read_csv
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import folder_file
from barometer.sources.origin import origin_group
from barometer.sources.parsing import age_on, blank_as_missing, district_columns, single_reference_date, stripped
from barometer.sources.pseudonym import PseudonymKey, pseudonymise_cpr
from barometer.sources.staged import ROW, Delivery, StagedDelivery

NAME = "childcare"
TABLES = ["institutions", "children"]
# table -> the glob that finds its file in the delivery folder (the sender chooses the rest)
FILES = {"institutions": "institutioner*.csv", "children": "boern*.csv"}
INSTITUTION_COLUMNS = ["institution_id", "navn", "type", "bydel"]
CHILD_COLUMNS = ["cpr", "foedselsdato", "herkomst", "bopaelsbydel", "institution_id", "opgoerelsesdato"]
SEPARATOR = ","
BIRTH_DATE_UNREADABLE = "_birth_date_unreadable"  # a column of the chunks, dropped once checked


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
            **district_columns(raw["bydel"], municipality_code),
            "reference_date": reference_date,
        }
    )


def read_children(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> pd.DataFrame:
    """The children typed a chunk at a time as the file is read, so that only typed rows
    accumulate; what needs the whole file (one reference date, the rows of every unreadable date
    of birth) is checked once all are read."""
    path, file = folder_file(delivery, FILES["children"])
    pseudonymise = pseudonymise_cpr("cpr", file, key)

    def typed(chunk: pd.DataFrame) -> pd.DataFrame:
        raw = pseudonymise(chunk)
        birth_date, unreadable = _birth_dates(raw)
        return pd.DataFrame(
            {
                ROW: raw[ROW],
                "person_id": raw["person_id"],
                "birth_date": birth_date,
                "age": pd.NA,  # placed here, computed once the reference date is known
                "origin": stripped(raw["herkomst"]),
                "origin_group": origin_group(raw["herkomst"]),
                **district_columns(raw["bopaelsbydel"], municipality_code),
                "institution_id": blank_as_missing(raw["institution_id"]),  # empty: in none
                "opgoerelsesdato": raw["opgoerelsesdato"].astype("category"),
                BIRTH_DATE_UNREADABLE: unreadable,
            }
        )

    children = read_csv(path, file, CHILD_COLUMNS, sep=SEPARATOR, prepare=typed)
    dates = children.pop("opgoerelsesdato")
    reference_date = single_reference_date(dates, file, "opgoerelsesdato", children[ROW])
    unreadable = children.pop(BIRTH_DATE_UNREADABLE)
    if unreadable.any():
        raise DeliveryError(
            file,
            "date of birth is empty or a date (YYYY-MM-DD)",
            "foedselsdato",
            children.loc[unreadable, ROW].tolist(),
        )
    children["age"] = age_on(children["birth_date"], reference_date)
    children["birth_date"] = children["birth_date"].dt.date
    children["reference_date"] = reference_date
    return children


def _birth_dates(raw: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """`foedselsdato` where given (ISO dates), else the date the CPR number encodes; and which
    rows hold a date of birth that is not a date."""
    given = raw["foedselsdato"].str.strip()
    parsed = pd.to_datetime(given, format="%Y-%m-%d", errors="coerce")
    return parsed.fillna(pd.to_datetime(raw["cpr_birth_date"])), (given != "") & parsed.isna()
