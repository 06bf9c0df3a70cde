"""youth_education: the youth guidance register's status on 1 October (.xlsx, sheet `Status`).

Rows are residents aged 14-25; the transform selects the 15-19 year-olds itself.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pandas as pd
from barometer.sources.origin import origin_group
from barometer.sources.parsing import age_on, district_columns, single_reference_date, stripped
from barometer.sources.pseudonym import PseudonymKey, pseudonymise_cpr
from barometer.sources.reader import read_table
from barometer.sources.registers import district_columns as district_spec
from barometer.sources.registers import origin_columns
from barometer.sources.spec import Column, FileFormat, SourceSpec, Table
from barometer.sources.staged import ROW, Delivery, StagedDelivery
from barometer.validations.columns import check_table
from barometer.validations.common import check_districts, check_reference_date

NAME = "youth_education"
COMPLETED = "Gennemført ungdomsuddannelse"
ENROLLED = "I gang med ungdomsuddannelse"
NOT_ENROLLED = "Ikke i gang"
STATUSES = [COMPLETED, ENROLLED, NOT_ENROLLED]
AGE_BAND = (14, 25)

SPEC = SourceSpec(
    name=NAME,
    label="Ungdomsuddannelsesstatus pr. 1. oktober",
    description="youth guidance register",
    format=FileFormat("xlsx", sheet="Status"),
    reference_date="the register's status date, 1 October (Opgørelsesdato, one per delivery)",
    privacy="CPR, date of birth, origin (*herkomst*), district of residence, education status",
    identifiers="CPR → pseudonym",
    tables=(
        Table(
            "youth_education",
            (
                Column(
                    "person_id", "CPR", "the resident (HMAC of the CPR number)", "pseudonym", personal=True,
                    unique="one row per person",
                ),
                Column(
                    "birth_date", "Fødselsdato", "date of birth (the CPR number's where empty)", "date",
                    required="date of birth is a date (or, if empty, the CPR number's)",
                    not_after="reference_date", not_after_rule="date of birth is not after the reference date",
                ),
                *origin_columns("Herkomst"),
                *district_spec("Bydel"),
                Column(
                    "status", "Status", "completed, enrolled or not enrolled", computed=True,
                    required="status is given", allowed=tuple(STATUSES),
                    allowed_rule="status is completed, enrolled or not enrolled",
                ),
                Column(
                    "age", "Fødselsdato", "age on the reference date", "integer", derived=True, computed=True,
                    between=AGE_BAND,
                    between_rule="age on the reference date within the register's 14-25 band",
                ),
                Column("reference_date", "Opgørelsesdato", "the status date", "date", computed=True),
            ),
        ),
    ),
)  # fmt: skip


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> StagedDelivery:
    raw = read_table(
        SPEC,
        "youth_education",
        delivery,
        prepare=pseudonymise_cpr("person_id", delivery.name, key, label=SPEC.header("person_id")),
    )
    reference_date = single_reference_date(
        raw["reference_date"], delivery.name, SPEC.header("reference_date"), raw[ROW]
    )
    birth_date = _birth_dates(raw["birth_date"], raw["cpr_birth_date"])
    table = pd.DataFrame(
        {
            ROW: raw[ROW],
            "person_id": raw["person_id"],
            "birth_date": birth_date.dt.date,
            "age": age_on(birth_date, reference_date),
            "origin": stripped(raw["origin"]),
            "origin_group": origin_group(raw["origin"]),
            **district_columns(raw["district_name"], municipality_code),
            "status": stripped(raw["status"]),
            "reference_date": reference_date,
        }
    )
    return StagedDelivery(
        delivery, reference_date, {"youth_education": table}, key.version, municipality_code=municipality_code
    )


def _birth_dates(given: pd.Series, from_cpr: pd.Series) -> pd.Series:
    """The delivered date of birth (an Excel date, or text as YYYY-MM-DD); the CPR number's only
    where the cell is empty. Anything else ('05.06.95': May or June?) stays missing, so that
    validation names its row instead of the pipeline guessing or silently using the CPR number."""
    blank = given.isna() | (given.astype("string").str.strip() == "")
    parsed = pd.to_datetime(given.where(~blank), format="ISO8601", errors="coerce")
    return parsed.where(~blank, pd.to_datetime(from_cpr))


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    """The status on 1 October and known districts, then the spec's rules."""
    table, file = staged.tables["youth_education"], staged.delivery.name
    check_reference_date(table, file, SPEC.header("reference_date"), "reference date is 1 October", {10}, day=1)
    check_districts(table, file, SPEC.header("district_name"))
    check_table(SPEC.table("youth_education"), table, file, SPEC.name, record=record)


def transform() -> ModuleType:
    from barometer.transforms import youth_education  # on use: a rerun reusing every source skips the import

    return youth_education
