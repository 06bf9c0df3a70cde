"""workforce: the payroll/HR system's annual staff extract (CSV, UTF-8, `;`).

There is no CPR number, but the employee number identifies a person just as well: it is replaced
by a keyed pseudonym as each chunk is read and never exists beyond the reader.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pandas as pd
from barometer.sources.errors import DeliveryError
from barometer.sources.parsing import single_reference_date
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.reader import read_table
from barometer.sources.spec import Column, FileFormat, SourceSpec, Table
from barometer.sources.staged import ROW, Delivery, StagedDelivery
from barometer.validations.columns import check_table

NAME = "workforce"
# The extract's origin codes mapped to the barometer's groups; 'uoplyst' (unknown) has none.
ORIGIN_GROUPS = {"dansk": "danish", "vestlig": "western", "ikke-vestlig": "non_western", "uoplyst": None}
MANAGER_FLAGS = ["J", "N"]

SPEC = SourceSpec(
    name=NAME,
    label="Kommunens HR-udtræk",
    description="HR extract",
    format=FileFormat("csv"),
    reference_date="the extract's date, 1 October (opgoerelsesdato, one per delivery)",
    privacy="employee number, department, job title, manager flag, origin",
    identifiers="employee number → pseudonym",
    tables=(
        Table(
            "employees",
            (
                Column(
                    "person_id", "medarbejder_nr", "the employee (HMAC of the employee number)", "pseudonym",
                    personal=True, unique="one row per employee (medarbejder_nr)",
                ),
                Column("department", "forvaltning", "the department (forvaltning)"),
                Column("job_title", "stillingsbetegnelse", "the job title"),
                Column(
                    "manager_flag", "leder", "J: a manager, N: not", allowed=tuple(MANAGER_FLAGS),
                    allowed_rule="leder is J or N",
                ),
                Column("is_manager", "leder", "a manager", "flag", derived=True, computed=True),
                Column(
                    "origin", "herkomst", "the extract's origin code", allowed=tuple(ORIGIN_GROUPS),
                    allowed_rule="herkomst is dansk, vestlig, ikke-vestlig or uoplyst",
                ),
                Column(
                    "origin_group", "herkomst", "danish, western or non_western (unknown: none)", derived=True,
                    computed=True,
                ),
                Column("reference_date", "opgoerelsesdato", "the extract's date", "date", computed=True),
            ),
        ),
    ),
)  # fmt: skip
TABLES = [table.name for table in SPEC.tables]


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> StagedDelivery:
    """`municipality_code` is unused (the extract has no district) but kept so every reader has
    the same signature."""

    def pseudonymise(chunk: pd.DataFrame) -> pd.DataFrame:
        number = chunk["person_id"].str.strip()  # the employee number, until it is swapped for a pseudonym
        if (number == "").any():
            raise DeliveryError(
                delivery.name,
                "employee number is given",
                SPEC.header("person_id"),
                chunk.loc[number == "", ROW].tolist(),
            )
        return chunk.assign(person_id=key.pseudonymise(number))

    raw = read_table(SPEC, "employees", delivery, prepare=pseudonymise)
    reference_date = single_reference_date(
        raw["reference_date"], delivery.name, SPEC.header("reference_date"), raw[ROW]
    )
    origin = raw["origin"].str.strip()
    table = pd.DataFrame(
        {
            ROW: raw[ROW],
            "person_id": raw["person_id"],
            "department": raw["department"].str.strip(),
            "job_title": raw["job_title"].str.strip(),
            "manager_flag": raw["manager_flag"].str.strip(),
            "is_manager": raw["manager_flag"].str.strip() == "J",
            "origin": origin,
            "origin_group": origin.map(ORIGIN_GROUPS).astype("string"),
            "reference_date": reference_date,
        }
    )
    return StagedDelivery(
        delivery, reference_date, {"employees": table}, key.version, municipality_code=municipality_code
    )


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    """The spec's rules: the extract's manager flag and origin codes, one row per employee. The
    single reference date and the employee number's presence are checked while reading."""
    check_table(SPEC.table("employees"), staged.tables["employees"], staged.delivery.name, NAME, record=record)


def transform() -> ModuleType:
    from barometer.transforms import workforce  # on use: a rerun reusing every source skips the import

    return workforce
