"""safety: the centre for crime prevention's annual safety index per area (.xlsx, sheet
`Tryghedsindeks`, title and notes above the table).

Area boundaries change between years, so an area is identified by its Område-ID within its year
only. No personal data: every row is an area.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pandas as pd
from barometer.sources.errors import DeliveryError
from barometer.sources.parsing import decimal_number, district_columns, single_reference_date, stripped
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.reader import read_table
from barometer.sources.registers import district_columns as district_spec
from barometer.sources.spec import Column, FileFormat, SourceSpec, Table
from barometer.sources.staged import ROW, Delivery, StagedDelivery
from barometer.validations.columns import check_table
from barometer.validations.common import check_districts, gx_expectations

NAME = "safety"

SPEC = SourceSpec(
    name=NAME,
    label="Tryghedsindekset",
    description="safety index",
    format=FileFormat("xlsx", sheet="Tryghedsindeks", header_first_cell="Område-ID"),
    reference_date="31 December of the index's year (År, one per delivery)",
    privacy="none: figures per area",
    tables=(
        Table(
            "safety_areas",
            (
                Column(
                    "area_id", "Område-ID", "the area, within its year", required="Område-ID is given",
                    unique="one row per area (Område-ID unique)",
                ),
                Column("area_name", "Område", "the area's name"),
                *district_spec("Bydel", computed=False),
                Column("year", "År", "the year the index describes", "integer"),
                Column(
                    "index", "Indeks", "the safety index (the city's average = 100)", "number",
                    required="Indeks is a number", between=(0, None), between_rule="Indeks is not negative",
                ),
                Column("reports_per_1000", "Anmeldelser pr. 1.000 indb.", "reports per 1,000 residents", "number"),
                Column("insecure_percent", "Utryghed (%)", "residents feeling insecure, percent", "number"),
                Column("reference_date", "År", "31 December of the year", "date", derived=True),
            ),
        ),
    ),
)  # fmt: skip
TABLES = [table.name for table in SPEC.tables]


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> StagedDelivery:
    """`key` is unused (no personal data) but kept so every reader has the same signature."""
    raw = read_table(SPEC, "safety_areas", delivery)
    year = _year(raw, delivery.name)
    reference_date = single_reference_date(year.astype(str) + "-12-31", delivery.name, SPEC.header("year"), raw[ROW])
    table = pd.DataFrame(
        {
            ROW: raw[ROW],
            "area_id": stripped(raw["area_id"]),
            "area_name": stripped(raw["area_name"]),
            **district_columns(raw["district_name"], municipality_code),
            "year": year,
            "index": decimal_number(raw["index"]),
            "reports_per_1000": decimal_number(raw["reports_per_1000"]),
            "insecure_percent": decimal_number(raw["insecure_percent"]),
            "reference_date": reference_date,
        }
    )
    return StagedDelivery(
        delivery, reference_date, {"safety_areas": table}, key_version=None, municipality_code=municipality_code
    )


def _year(raw: pd.DataFrame, file: str) -> pd.Series:
    """År as a whole number: the year the index describes (its reference date is 31 December)."""
    year = decimal_number(raw["year"])
    bad = year.isna() | (year % 1 != 0)
    if bad.any():
        raise DeliveryError(file, "year (År) is a whole number", SPEC.header("year"), raw.loc[bad, ROW].tolist())
    return year.astype("int64")


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    """Known districts, then the spec's rules and at least one area. The sheet, its header row
    and the single year are checked while reading."""
    table, file = staged.tables["safety_areas"], staged.delivery.name
    check_districts(table, file, SPEC.header("district_name"))
    some_area = gx_expectations().ExpectTableRowCountToBeBetween(
        min_value=1, description="the table lists at least one area"
    )
    check_table(SPEC.table("safety_areas"), table, file, NAME, [some_area], record)


def transform() -> ModuleType:
    from barometer.transforms import safety  # on use: a rerun reusing every source skips the import

    return safety
