"""survey: the contractor's annual inclusion survey, one row per respondent (CSV, UTF-8, `;`,
decimal comma in `vaegt`). There is no CPR number: `respondent_id` is the contractor's id, kept
only so validation can check one row per respondent; no transform passes it on.

Answer codes stay text ('1'-'5', '9', empty = <NA>) so validation can name a malformed code
instead of it silently becoming 'not answered'; the transform turns them into numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pandas as pd
from barometer.config import source_config
from barometer.sources.errors import DeliveryError
from barometer.sources.parsing import blank_as_missing, decimal_number, district_columns
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.reader import read_table
from barometer.sources.registers import district_columns as district_spec
from barometer.sources.spec import Column, FileFormat, SourceSpec, Table
from barometer.sources.staged import ROW, Delivery, StagedDelivery
from barometer.validations.columns import check_table
from barometer.validations.common import check_districts, gx_expectations

NAME = "survey"
GROUP_CODES = {"minoritet": "minority", "majoritet": "majority"}
DATE_RULE = "interview date (interviewdato) is a date (YYYY-MM-DD)"


def questions(config: dict) -> list[str]:
    """The answer columns a delivery must carry: the configured index items and the
    discrimination item (configuration decides which items there are)."""
    return list(dict.fromkeys([*config["index_items"], config["discrimination_item"]]))


def answer_codes(config: dict) -> tuple[list[str], list[str]]:
    """The codes allowed for an index item (its scale and don't know) and for the
    discrimination item (yes, no, don't know), as delivered text."""
    low, high = config["answer_scale"]
    index_codes = [str(code) for code in [*range(low, high + 1), config["dont_know"]]]
    yes_no_codes = [str(config[k]) for k in ("discrimination_yes", "discrimination_no", "dont_know")]
    return index_codes, yes_no_codes


def answer_columns(config: dict) -> tuple[Column, ...]:
    """One column per question, its codes as the questionnaire's scale allows them."""
    index_codes, yes_no_codes = answer_codes(config)
    discrimination = config["discrimination_item"]
    return tuple(
        Column(
            item, item, "answer code (empty: not answered)",
            allowed=tuple(codes), allowed_rule=f"answer code is {', '.join(codes)} or empty",
        )
        for item in questions(config)
        for codes in [yes_no_codes if item == discrimination else index_codes]
    )  # fmt: skip


SPEC = SourceSpec(
    name=NAME,
    label="Inklusionsundersøgelsen",
    description="contractor's survey",
    format=FileFormat("csv"),
    reference_date="the last interview date (interviewdato) in the delivery",
    privacy=(
        "the contractor's respondent id, interview date, weight, majority/minority group, district, answers "
        "(including experienced discrimination)"
    ),
    identifiers="respondent id used only to check one row per respondent; no CPR",
    tables=(
        Table(
            "survey",
            (
                Column(
                    "respondent_id", "respondent_id", "the contractor's id of the respondent",
                    required="respondent_id is given", unique="one row per respondent",
                ),
                Column("interview_date", "interviewdato", "the interview's date", "date", required=DATE_RULE),
                Column(
                    "weight", "vaegt", "the respondent's weight (decimal comma)", "number",
                    required="weight (vaegt) is a number with a decimal comma",
                ),
                Column(
                    "origin_group", "gruppe", "minority or majority",
                    required="group (gruppe) is minoritet or majoritet",
                ),
                *district_spec("bydel", computed=False),
                *answer_columns(source_config(NAME)),
                Column("reference_date", "interviewdato", "the last interview date", "date", derived=True),
            ),
        ),
    ),
)  # fmt: skip


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> StagedDelivery:
    """`key` is unused (the survey carries no CPR) but kept for the reader contract."""
    raw = read_table(SPEC, "survey", delivery)
    interview_date = pd.to_datetime(raw["interview_date"].str.strip(), format="ISO8601", errors="coerce")
    if interview_date.isna().any():  # any unreadable date could be the last one
        raise DeliveryError(
            delivery.name, DATE_RULE, SPEC.header("interview_date"), raw.loc[interview_date.isna(), ROW]
        )
    reference_date = interview_date.max().date()
    table = pd.DataFrame(
        {
            ROW: raw[ROW],
            "respondent_id": blank_as_missing(raw["respondent_id"]),
            "interview_date": interview_date.dt.date,
            "weight": decimal_number(raw["weight"], strict=True),
            "origin_group": raw["origin_group"].str.strip().str.lower().map(GROUP_CODES).astype("string"),
            **district_columns(raw["district_name"], municipality_code, blank_as_missing),
            **{item: blank_as_missing(raw[item]) for item in questions(source_config(NAME))},
            "reference_date": reference_date,
        }
    )
    return StagedDelivery(delivery, reference_date, {"survey": table}, municipality_code=municipality_code)


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    """Known districts where given, then the spec's rules and a positive weight."""
    table, file = staged.tables["survey"], staged.delivery.name
    check_districts(table, file, SPEC.header("district_name"))
    positive_weight = gx_expectations().ExpectColumnValuesToBeBetween(
        column="weight", min_value=0, strict_min=True, description="weight (vaegt) is positive"
    )
    check_table(SPEC.table("survey"), table, file, NAME, extra=[positive_weight], record=record)


def transform() -> ModuleType:
    from barometer.transforms import survey  # on use: a rerun reusing every source skips the import

    return survey
