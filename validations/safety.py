"""Rules for a safety delivery: at least one area, each area once, an index score that is a
non-negative number, and known districts. The sheet, its header row and the single year are
checked while reading."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from barometer.sources.base import StagedDelivery
from barometer.sources.safety import NAME, TABLES
from barometer.validations.common import check, check_districts, gx_expectations

# Staged columns as the delivered sheet names them: error messages point into the file.
FILE_COLUMNS = {
    "area_id": "Område-ID",
    "area_name": "Område",
    "district_name": "Bydel",
    "district": "Bydel",
    "year": "År",
    "index": "Indeks",
    "reports_per_1000": "Anmeldelser pr. 1.000 indb.",
    "insecure_percent": "Utryghed (%)",
}


def expectations() -> list:
    E = gx_expectations()
    return [
        E.ExpectTableRowCountToBeBetween(min_value=1, description="the table lists at least one area"),
        E.ExpectColumnValuesToNotBeNull(column="area_id", description="Område-ID is given"),
        E.ExpectColumnValuesToBeUnique(column="area_id", description="one row per area (Område-ID unique)"),
        E.ExpectColumnValuesToNotBeNull(column="index", description="Indeks is a number"),
        E.ExpectColumnValuesToBeBetween(column="index", min_value=0, description="Indeks is not negative"),
    ]


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    table = staged.tables[TABLES[0]]
    file = staged.delivery.name
    check_districts(table, file, FILE_COLUMNS["district_name"])
    check(table, expectations(), file, suite_name=NAME, labels=FILE_COLUMNS, record=record)
