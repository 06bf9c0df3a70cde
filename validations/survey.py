"""Rules for a survey delivery: one row per respondent, a positive weight, a known group, answer
codes on the questionnaire's scales (empty: not answered), and known districts where given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from barometer.config import source_config
from barometer.sources.base import StagedDelivery
from barometer.sources.survey import DATE_RULE, NAME
from barometer.validations.common import check, check_districts, gx_expectations

# Staged columns as the delivered file names them (answer columns keep theirs).
FILE_COLUMNS = {
    "respondent_id": "respondent_id",
    "interview_date": "interviewdato",
    "weight": "vaegt",
    "origin_group": "gruppe",
    "district_name": "bydel",
    "district": "bydel",
}


def answer_codes(config: dict) -> tuple[list[str], list[str]]:
    """The codes allowed for an index item (its scale and don't know) and for the
    discrimination item (yes, no, don't know), as delivered text."""
    low, high = config["answer_scale"]
    index_codes = [str(code) for code in [*range(low, high + 1), config["dont_know"]]]
    yes_no_codes = [str(config[k]) for k in ("discrimination_yes", "discrimination_no", "dont_know")]
    return index_codes, yes_no_codes


def expectations() -> list:
    E = gx_expectations()
    config = source_config(NAME)
    index_codes, yes_no_codes = answer_codes(config)
    discrimination = config["discrimination_item"]
    return [
        E.ExpectColumnValuesToNotBeNull(column="respondent_id", description="respondent_id is given"),
        E.ExpectColumnValuesToBeUnique(column="respondent_id", description="one row per respondent"),
        E.ExpectColumnValuesToNotBeNull(column="interview_date", description=DATE_RULE),
        E.ExpectColumnValuesToNotBeNull(column="weight", description="weight (vaegt) is a number with a decimal comma"),
        E.ExpectColumnValuesToBeBetween(
            column="weight", min_value=0, strict_min=True, description="weight (vaegt) is positive"
        ),
        E.ExpectColumnValuesToNotBeNull(column="origin_group", description="group (gruppe) is minoritet or majoritet"),
        *[
            E.ExpectColumnValuesToBeInSet(
                column=item, value_set=index_codes, description=f"answer code is {', '.join(index_codes)} or empty"
            )
            for item in config["index_items"]
        ],
        E.ExpectColumnValuesToBeInSet(
            column=discrimination,
            value_set=yes_no_codes,
            description=f"answer code is {', '.join(yes_no_codes)} or empty",
        ),
    ]


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    table = staged.tables["survey"]
    file = staged.delivery.name
    check_districts(table, file, FILE_COLUMNS["district_name"])
    check(table, expectations(), file, suite_name=NAME, labels=FILE_COLUMNS, record=record)
