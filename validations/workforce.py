"""Rules for a workforce delivery: the extract's manager flag and origin codes, and one row per
employee. The single reference date and the employee number's presence are checked while reading."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from barometer.sources.base import StagedDelivery
from barometer.sources.workforce import MANAGER_FLAGS, NAME, ORIGIN_GROUPS, TABLES
from barometer.validations.common import check, gx_expectations

# Staged columns as the delivered file names them: error messages point into the file.
FILE_COLUMNS = {
    "person_id": "medarbejder_nr",
    "department": "forvaltning",
    "job_title": "stillingsbetegnelse",
    "manager_flag": "leder",
    "is_manager": "leder",
    "origin": "herkomst",
    "origin_group": "herkomst",
    "reference_date": "opgoerelsesdato",
}


def expectations() -> list:
    E = gx_expectations()
    return [
        E.ExpectColumnValuesToBeInSet(column="manager_flag", value_set=MANAGER_FLAGS, description="leder is J or N"),
        E.ExpectColumnValuesToBeInSet(
            column="origin",
            value_set=list(ORIGIN_GROUPS),
            description="herkomst is dansk, vestlig, ikke-vestlig or uoplyst",
        ),
        E.ExpectColumnValuesToBeUnique(column="person_id", description="one row per employee (medarbejder_nr)"),
    ]


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    check(
        staged.tables[TABLES[0]],
        expectations(),
        staged.delivery.name,
        suite_name=NAME,
        labels=FILE_COLUMNS,
        record=record,
    )
