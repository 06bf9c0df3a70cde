"""grades: the 9th-grade final-exam results of one school year (Windows-1252 CSV, one row per exam).

Grades stay text: '02' and '00' are the scale's spellings, and '2' or '0' are errors validation
must see. The reference date is 30 June of the exam year, read from `skoleaar` ('2011/12' → the
June 2012 exams), never from the file name.
"""

from __future__ import annotations

import pandas as pd
from barometer.config import source_config
from barometer.sources.csv_export import read_csv
from barometer.sources.errors import DeliveryError
from barometer.sources.parsing import blank_as_missing, single_reference_date, stripped
from barometer.sources.pseudonym import PseudonymKey, pseudonymise_cpr
from barometer.sources.staged import ROW, Delivery, StagedDelivery

NAME = "grades"
TABLES = ["grades"]
COLUMNS = [
    "cpr",
    "institutionsnummer",
    "skoleaar",
    "fag",
    "karakter",
    "tosproget",
    "foraeldre_uddannelse",
    "foraeldre_beskaeftigelse",
    "husstandsindkomst_decil",
]
# staged column <- file column, for the text columns kept as delivered (stripped)
TEXT_COLUMNS = {
    "school": "institutionsnummer",
    "subject": "fag",
    "grade": "karakter",
    "bilingual": "tosproget",
    "parents_education": "foraeldre_uddannelse",
    "parents_employment": "foraeldre_beskaeftigelse",
    "income_decile": "husstandsindkomst_decil",
}


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str = "101") -> StagedDelivery:
    """The delivery's exams with pseudonymised pupils; `municipality_code` is unused (no districts)."""
    config = source_config(NAME)
    raw = read_csv(
        delivery.path,
        delivery.name,
        COLUMNS,
        encoding=config["encoding"],
        prepare=pseudonymise_cpr("cpr", delivery.name, key, keep=("person_id",)),
    )
    exam_dates = exam_date(raw["skoleaar"], delivery.name, raw[ROW])
    reference_date = single_reference_date(exam_dates, delivery.name, "skoleaar", raw[ROW])
    table = pd.DataFrame({ROW: raw[ROW], "person_id": raw["person_id"]})
    for column, file_column in TEXT_COLUMNS.items():
        table[column] = stripped(raw[file_column])
    table["income_decile"] = blank_as_missing(table["income_decile"])  # empty: not known
    table["reference_date"] = reference_date
    return StagedDelivery(delivery, reference_date, {"grades": table}, key.version)


def exam_date(school_year: pd.Series, file: str, rows: pd.Series) -> pd.Series:
    """'2011/12' → '2012-06-30': the June exams close the school year (parsed once per spelling)."""
    spelled = school_year.astype("string").str.strip()
    distinct = pd.Series(spelled.unique(), dtype="string")
    parts = distinct.str.extract(r"^(\d{4})/(\d{2})$")
    start, end = (pd.to_numeric(parts[i]).astype("Int64") for i in (0, 1))
    dates = ((start + 1).astype("string") + "-06-30").where(end == (start + 1) % 100)
    exam_dates = spelled.map(dict(zip(distinct, dates)))
    if exam_dates.isna().any():
        raise DeliveryError(
            file, "school year has the form YYYY/YY, e.g. 2011/12", "skoleaar", rows[exam_dates.isna()].tolist()
        )
    return exam_dates
