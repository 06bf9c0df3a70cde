"""The employment suite, per StatBank table: its cells carry only the codes configured for that
table, one count per cell."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from barometer.sources.employment import CELL, CODE_COLUMNS, NAME, STATUSES, TABLES, table_config
from barometer.sources.staged import StagedDelivery
from barometer.sources.statbank import CONTENT
from barometer.validations.common import check, gx_expectations

REQUIRED = [*CELL, "reference_date", "count"]


def expectations(config: dict[str, Any]) -> list:
    E = gx_expectations()
    origins = sorted({code for codes in config["origin"].values() for code in codes})
    allowed = {
        "table": ([config["table"]], f"table is {config['table']}"),
        "status": (STATUSES, "status is employed or unemployed"),
        "origin": (origins, "origin is one of the configured origin codes"),
        "age": (config["ages"], "age is one of the configured 16-64 bands"),
        "sex": (config["sexes"], "sex is one of the configured codes"),
    }
    if "quarters" in config:
        quarters = "|".join(re.escape(code) for code in config["quarters"])
        period = (rf"^\d{{4}}(?:{quarters})$", "period is a year and a configured quarter, e.g. 2012K3")
    else:
        period = (r"^\d{4}$", "period is a year, e.g. 2012")
    return [
        *(E.ExpectColumnToExist(column=column, description=f"column {column} present") for column in REQUIRED),
        *(
            E.ExpectColumnValuesToBeInSet(column=column, value_set=values, description=rule)
            for column, (values, rule) in allowed.items()
        ),
        E.ExpectColumnValuesToMatchRegex(column="period", regex=period[0], description=period[1]),
        E.ExpectColumnValuesToBeBetween(column="count", min_value=0, description="count is not negative"),
        E.ExpectCompoundColumnsToBeUnique(
            column_list=CELL, description="one count per area, status, origin, age, sex and period"
        ),
    ]


def labels(config: dict[str, Any]) -> dict[str, str]:
    """Staged columns as the StatBank answer names its variables: error messages point into it."""
    variables = config["variables"]
    time = ", ".join(variables[role] for role in ("time", "period") if role in variables)
    return {
        **{staged: variables[role] for role, staged in CODE_COLUMNS.items()},
        "status": variables["status"],
        "period": time,
        "count": CONTENT,
    }


def validate_cells(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    """One table's delivery ('StatBank RAS201') against that table's configured codes."""
    config = table_config(staged.delivery.name.removeprefix("StatBank "))
    check(
        staged.tables[TABLES[0]],
        expectations(config),
        staged.delivery.name,
        suite_name=NAME,
        labels=labels(config),
        record=record,
    )
