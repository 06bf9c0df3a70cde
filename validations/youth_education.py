"""Rules for a youth_education delivery: the register's categories, one row per person, ages
within the register's 14-25 band, birth dates before the reference date, known districts."""

from __future__ import annotations

import great_expectations as gx

from sources.base import StagedDelivery
from sources.errors import DeliveryError
from sources.origin import ORIGIN_GROUPS
from sources.youth_education import NAME, STATUSES
from validations.common import check, check_districts

AGE_BAND = (14, 25)
# Staged columns as the delivered sheet names them: error messages point into the file.
FILE_COLUMNS = {"person_id": "CPR", "birth_date": "Fødselsdato", "age": "Fødselsdato",
                "origin": "Herkomst", "status": "Status"}


def expectations() -> list:
    E = gx.expectations
    return [
        E.ExpectColumnValuesToNotBeNull(column="birth_date",
                                        description="date of birth is a date (or, if empty, the CPR number's)"),
        E.ExpectColumnValuesToNotBeNull(column="origin", description="origin (Herkomst) is given"),
        E.ExpectColumnValuesToBeInSet(column="origin", value_set=list(ORIGIN_GROUPS),
                                      description="origin (Herkomst) is one of Statistics Denmark's five categories"),
        E.ExpectColumnValuesToNotBeNull(column="status", description="status is given"),
        E.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES,
                                      description="status is completed, enrolled or not enrolled"),
        E.ExpectColumnValuesToBeUnique(column="person_id", description="one row per person"),
        E.ExpectColumnValuesToBeBetween(column="age", min_value=AGE_BAND[0], max_value=AGE_BAND[1],
                                        description="age on the reference date within the register's 14-25 band"),
    ]


def validate(staged: StagedDelivery) -> None:
    table = staged.tables["youth_education"]
    file = staged.delivery.name
    check_districts(table, file, "Bydel")
    try:
        check(table, expectations(), file, suite_name=NAME)
    except DeliveryError as error:
        raise DeliveryError(file, error.rule, FILE_COLUMNS.get(error.column, error.column),
                            error.rows, error.detail) from None
