"""youth_education: the youth guidance register's status on 1 October (.xlsx, sheet `Status`).

Rows are residents aged 14-25; the transform selects the 15-19 year-olds itself.
"""

from __future__ import annotations

import pandas as pd
from barometer.config import source_config
from barometer.sources.origin import origin_group
from barometer.sources.parsing import age_on, district_columns, single_reference_date, stripped
from barometer.sources.pseudonym import PseudonymKey, pseudonymise_cpr
from barometer.sources.staged import ROW, Delivery, StagedDelivery
from barometer.sources.workbook import read_xlsx

NAME = "youth_education"
TABLES = ["youth_education"]
COLUMNS = ["CPR", "Fødselsdato", "Herkomst", "Bydel", "Status", "Opgørelsesdato"]
COMPLETED = "Gennemført ungdomsuddannelse"
ENROLLED = "I gang med ungdomsuddannelse"
NOT_ENROLLED = "Ikke i gang"
STATUSES = [COMPLETED, ENROLLED, NOT_ENROLLED]


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str = "101") -> StagedDelivery:
    config = source_config(NAME)
    raw = read_xlsx(
        delivery.path, delivery.name, config["sheet"], COLUMNS, prepare=pseudonymise_cpr("CPR", delivery.name, key)
    )
    reference_date = single_reference_date(raw["Opgørelsesdato"], delivery.name, "Opgørelsesdato", raw[ROW])
    birth_date = _birth_dates(raw["Fødselsdato"], raw["cpr_birth_date"])
    table = pd.DataFrame(
        {
            ROW: raw[ROW],
            "person_id": raw["person_id"],
            "birth_date": birth_date.dt.date,
            "age": age_on(birth_date, reference_date),
            "origin": stripped(raw["Herkomst"]),
            "origin_group": origin_group(raw["Herkomst"]),
            **district_columns(raw["Bydel"], municipality_code),
            "status": stripped(raw["Status"]),
            "reference_date": reference_date,
        }
    )
    return StagedDelivery(delivery, reference_date, {"youth_education": table}, key.version)


def _birth_dates(given: pd.Series, from_cpr: pd.Series) -> pd.Series:
    """The delivered date of birth (an Excel date, or text as YYYY-MM-DD); the CPR number's only
    where the cell is empty. Anything else ('05.06.95': May or June?) stays missing, so that
    validation names its row instead of the pipeline guessing or silently using the CPR number."""
    blank = given.isna() | (given.astype("string").str.strip() == "")
    parsed = pd.to_datetime(given.where(~blank), format="ISO8601", errors="coerce")
    return parsed.where(~blank, pd.to_datetime(from_cpr))
