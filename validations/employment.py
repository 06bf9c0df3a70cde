"""The employment suite: KAS201 cells carry only the configured codes, one count per cell."""

from __future__ import annotations

import re

from barometer.config import source_config
from barometer.sources.base import StagedDelivery
from barometer.sources.employment import COLUMNS, NAME, TABLES
from barometer.sources.statbank import CONTENT
from barometer.validations.common import check, gx_expectations

KEY = ["area_code", "status", "origin", "age", "sex", "quarter"]
REQUIRED = [*KEY, "reference_date", "count"]
_VARIABLES = source_config(NAME)["variables"]
# Staged columns as the StatBank answer names its variables: error messages point into it.
FILE_COLUMNS = {
    **{staged: _VARIABLES[role] for role, staged in COLUMNS.items()},
    "quarter": f"{_VARIABLES['time']}, {_VARIABLES['period']}",
    "count": CONTENT,
}


def expectations() -> list:
    E = gx_expectations()
    codes = source_config(NAME)["codes"]
    quarters = "|".join(re.escape(code) for code in codes["quarters"])
    allowed = {
        "status": ([codes["employed"], codes["unemployed"]], "status is employed or unemployed"),
        "origin": ([codes["origin_all"], *codes["origin_non_western"]], "origin is all or non-Western"),
        "age": (codes["ages"], "age is one of the configured 16-64 bands"),
        "sex": ([codes["sex_all"]], "sex is both sexes"),
    }
    return [
        *(E.ExpectColumnToExist(column=column, description=f"column {column} present") for column in REQUIRED),
        *(
            E.ExpectColumnValuesToBeInSet(column=column, value_set=values, description=rule)
            for column, (values, rule) in allowed.items()
        ),
        E.ExpectColumnValuesToMatchRegex(
            column="quarter",
            regex=rf"^\d{{4}}(?:{quarters})$",
            description="quarter is a year and a configured quarter, e.g. 2012K3",
        ),
        E.ExpectColumnValuesToBeBetween(column="count", min_value=0, description="count is not negative"),
        E.ExpectCompoundColumnsToBeUnique(
            column_list=KEY, description="one count per area, status, origin, age, sex and quarter"
        ),
    ]


def validate(staged: StagedDelivery) -> None:
    check(staged.tables[TABLES[0]], expectations(), staged.delivery.name, suite_name=NAME, labels=FILE_COLUMNS)
