"""survey: the contractor's annual inclusion survey, one row per respondent (CSV, UTF-8, `;`,
decimal comma in `vaegt`). There is no CPR number: `respondent_id` is the contractor's id, kept
only so validation can check one row per respondent; no transform passes it on.

Answer codes stay text ('1'-'5', '9', empty = <NA>) so validation can name a malformed code
instead of it silently becoming 'not answered'; the transform turns them into numbers.
"""

from __future__ import annotations

import pandas as pd
from barometer.config import source_config
from barometer.sources.csv_export import read_csv
from barometer.sources.errors import DeliveryError
from barometer.sources.parsing import blank_as_missing, decimal_number, district_columns
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.staged import ROW, Delivery, StagedDelivery

NAME = "survey"
TABLES = ["survey"]
FIXED_COLUMNS = ["respondent_id", "interviewdato", "vaegt", "gruppe", "bydel"]
GROUP_CODES = {"minoritet": "minority", "majoritet": "majority"}
DATE_RULE = "interview date (interviewdato) is a date (YYYY-MM-DD)"


def questions(config: dict) -> list[str]:
    """The answer columns a delivery must carry: the configured index items and the
    discrimination item (configuration decides which items there are)."""
    return list(dict.fromkeys([*config["index_items"], config["discrimination_item"]]))


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str = "101") -> StagedDelivery:
    """`key` is unused (the survey carries no CPR) but kept for the reader contract."""
    items = questions(source_config(NAME))
    raw = read_csv(delivery.path, delivery.name, FIXED_COLUMNS + items, encoding="utf-8", sep=";")
    interview_date = pd.to_datetime(raw["interviewdato"].str.strip(), format="ISO8601", errors="coerce")
    if interview_date.isna().any():  # any unreadable date could be the last one
        raise DeliveryError(delivery.name, DATE_RULE, "interviewdato", raw.loc[interview_date.isna(), ROW])
    reference_date = interview_date.max().date()
    table = pd.DataFrame(
        {
            ROW: raw[ROW],
            "respondent_id": blank_as_missing(raw["respondent_id"]),
            "interview_date": interview_date.dt.date,
            "weight": decimal_number(raw["vaegt"], strict=True),
            "origin_group": raw["gruppe"].str.strip().str.lower().map(GROUP_CODES).astype("string"),
            **district_columns(raw["bydel"], municipality_code, blank_as_missing),
            **{item: blank_as_missing(raw[item]) for item in items},
            "reference_date": reference_date,
        }
    )
    return StagedDelivery(delivery, reference_date, {"survey": table})
