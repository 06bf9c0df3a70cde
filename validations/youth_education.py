"""Rules for a youth_education delivery: the status on 1 October, the register's categories, one
row per person, birth dates not after the reference date, ages within the register's 14-25
band, known districts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from barometer.sources.base import StagedDelivery
from barometer.sources.youth_education import NAME, STATUSES
from barometer.validations.common import (
    check,
    check_districts,
    check_reference_date,
    gx_expectations,
    person_register_expectations,
)

AGE_BAND = (14, 25)
# Staged columns as the delivered sheet names them: error messages point into the file.
FILE_COLUMNS = {
    "person_id": "CPR",
    "birth_date": "Fødselsdato",
    "age": "Fødselsdato",
    "origin": "Herkomst",
    "origin_group": "Herkomst",
    "district_name": "Bydel",
    "district": "Bydel",
    "status": "Status",
    "reference_date": "Opgørelsesdato",
}


def expectations() -> list:
    E = gx_expectations()
    return [
        E.ExpectColumnValuesToNotBeNull(
            column="birth_date", description="date of birth is a date (or, if empty, the CPR number's)"
        ),
        E.ExpectColumnValuesToNotBeNull(column="status", description="status is given"),
        E.ExpectColumnValuesToBeInSet(
            column="status", value_set=STATUSES, description="status is completed, enrolled or not enrolled"
        ),
    ] + person_register_expectations("Herkomst", "person", AGE_BAND)


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    table = staged.tables["youth_education"]
    file = staged.delivery.name
    check_reference_date(table, file, FILE_COLUMNS["reference_date"], "reference date is 1 October", {10}, day=1)
    check_districts(table, file, FILE_COLUMNS["district_name"])
    check(table, expectations(), file, suite_name=NAME, labels=FILE_COLUMNS, record=record)
