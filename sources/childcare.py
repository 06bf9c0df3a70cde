"""childcare: the place-allocation system's extract, February and November.

A delivery is a folder with two comma-separated, quoted UTF-8 files: the institutions
(`institutioner*.csv`) and every resident child aged 0-13 with the institution they attend
(`boern*.csv`, empty institution: none). The reference date is read from the children's file and
stamped on both tables.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import ModuleType
from typing import Any

import pandas as pd
from barometer.config.districts import has_districts
from barometer.sources.errors import DeliveryError
from barometer.sources.origin import origin_group
from barometer.sources.parsing import age_on, blank_as_missing, district_columns, single_reference_date, stripped
from barometer.sources.pseudonym import PseudonymKey, pseudonymise_cpr
from barometer.sources.reader import read_table, table_file
from barometer.sources.registers import district_columns as district_spec
from barometer.sources.registers import origin_columns
from barometer.sources.spec import Column, FileFormat, SourceSpec, Table
from barometer.sources.staged import ROW, Delivery, StagedDelivery
from barometer.validations.columns import check_table
from barometer.validations.common import check_districts, check_listed, check_reference_date, gx_expectations

NAME = "childcare"
INSTITUTION_TYPES = ["Vuggestue", "Børnehave", "Integreret", "Fritidshjem", "KKFO", "Fritidsklub"]
AGE_BAND = (0, 13)
BIRTH_DATE_UNREADABLE = "_birth_date_unreadable"  # a column of the chunks, dropped once checked

SPEC = SourceSpec(
    name=NAME,
    label="Pladsanvisningen (dagtilbud, fritidshjem og klubber)",
    description="children + institutions",
    format=FileFormat("csv", separator=",", quoted=True),
    reference_date="the extract's date, in February or November (opgoerelsesdato, one per delivery)",
    privacy="CPR, date of birth, origin, district of residence, institution (the institutions file holds none)",
    identifiers="CPR → pseudonym",
    tables=(
        Table(
            "institutions",
            (
                Column(
                    "institution_id", "institution_id", "the institution's id in the allocation system",
                    required="institution id is given", unique="one row per institution",
                ),
                Column("name", "navn", "the institution's name"),
                Column(
                    "type", "type", "the kind of institution",
                    allowed=tuple(INSTITUTION_TYPES), allowed_rule="type is one of the six kinds of institution",
                ),
                *district_spec("bydel", computed=False),
                Column(
                    "reference_date", "opgoerelsesdato", "the children's file's reference date", "date", derived=True
                ),
            ),
            file_pattern="institutioner*.csv",
        ),
        Table(
            "children",
            (
                Column(
                    "person_id", "cpr", "the child (HMAC of the CPR number)", "pseudonym", personal=True,
                    unique="one row per child",
                ),
                Column(
                    "birth_date", "foedselsdato", "date of birth (the CPR number's where empty)", "date",
                    not_after="reference_date", not_after_rule="date of birth is not after the reference date",
                ),
                *origin_columns("herkomst"),
                *district_spec("bopaelsbydel"),
                Column(
                    "age", "foedselsdato", "age on the reference date", "integer", derived=True, computed=True,
                    between=AGE_BAND, between_rule="age on the reference date within the register's 0-13 band",
                ),
                Column(
                    "institution_id", "institution_id", "the institution attended (empty: none)", computed=True
                ),
                Column("reference_date", "opgoerelsesdato", "the extract's date", "date", computed=True),
            ),
            file_pattern="boern*.csv",
        ),
    ),
)  # fmt: skip
TABLES = [table.name for table in SPEC.tables]


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> StagedDelivery:
    children = read_children(delivery, key, municipality_code)
    reference_date = children["reference_date"].iloc[0]
    institutions = read_institutions(delivery, reference_date, municipality_code)
    return StagedDelivery(
        delivery,
        reference_date,
        {"institutions": institutions, "children": children},
        key.version,
        municipality_code=municipality_code,
    )


def read_institutions(delivery: Delivery, reference_date: date, municipality_code: str) -> pd.DataFrame:
    raw = read_table(SPEC, "institutions", delivery)
    return pd.DataFrame(
        {
            ROW: raw[ROW],
            "institution_id": stripped(raw["institution_id"]),
            "name": stripped(raw["name"]),
            "type": stripped(raw["type"]),
            **district_columns(raw["district_name"], municipality_code),
            "reference_date": reference_date,
        }
    )


def read_children(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> pd.DataFrame:
    """The children typed a chunk at a time as the file is read, so that only typed rows
    accumulate; what needs the whole file (one reference date, the rows of every unreadable date
    of birth) is checked once all are read."""
    file = table_file(SPEC, "children", delivery)[1]
    pseudonymise = pseudonymise_cpr("person_id", file, key, label=SPEC.header("person_id", "children"))

    def typed(chunk: pd.DataFrame) -> pd.DataFrame:
        raw = pseudonymise(chunk)
        birth_date, unreadable = _birth_dates(raw)
        return pd.DataFrame(
            {
                ROW: raw[ROW],
                "person_id": raw["person_id"],
                "birth_date": birth_date,
                "age": pd.NA,  # placed here, computed once the reference date is known
                "origin": stripped(raw["origin"]),
                "origin_group": origin_group(raw["origin"]),
                **district_columns(raw["district_name"], municipality_code),
                "institution_id": blank_as_missing(raw["institution_id"]),  # empty: in none
                "reference_date": raw["reference_date"].astype("category"),
                BIRTH_DATE_UNREADABLE: unreadable,
            }
        )

    children = read_table(SPEC, "children", delivery, prepare=typed)
    dates = children.pop("reference_date")
    reference_date = single_reference_date(dates, file, SPEC.header("reference_date", "children"), children[ROW])
    unreadable = children.pop(BIRTH_DATE_UNREADABLE)
    if unreadable.any():
        raise DeliveryError(
            file,
            "date of birth is empty or a date (YYYY-MM-DD)",
            SPEC.header("birth_date", "children"),
            children.loc[unreadable, ROW].tolist(),
        )
    children["age"] = age_on(children["birth_date"], reference_date)
    children["birth_date"] = children["birth_date"].dt.date
    children["reference_date"] = reference_date
    return children


def _birth_dates(raw: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """`foedselsdato` where given (ISO dates), else the date the CPR number encodes; and which
    rows hold a date of birth that is not a date."""
    given = raw["birth_date"].str.strip()
    parsed = pd.to_datetime(given, format="%Y-%m-%d", errors="coerce")
    return parsed.fillna(pd.to_datetime(raw["cpr_birth_date"])), (given != "") & parsed.isna()


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    """Each file's districts and the spec's rules, the institutions first; then every child's
    institution listed. An institution's district is required only where the municipality has
    a district list."""
    institutions, children = staged.tables["institutions"], staged.tables["children"]
    institutions_file = table_file(SPEC, "institutions", staged.delivery)[1]
    children_file = table_file(SPEC, "children", staged.delivery)[1]
    check_districts(institutions, institutions_file, SPEC.header("district_name", "institutions"))
    by_district = (
        [
            gx_expectations().ExpectColumnValuesToNotBeNull(
                column="district", description="institution's district is given"
            )
        ]
        if has_districts(staged.municipality)
        else []
    )
    check_table(
        SPEC.table("institutions"), institutions, institutions_file, f"{NAME}_institutions", by_district, record
    )
    check_reference_date(
        children,
        children_file,
        SPEC.header("reference_date", "children"),
        "reference date is in February or November",
        {2, 11},
    )
    check_districts(children, children_file, SPEC.header("district_name", "children"))
    check_table(SPEC.table("children"), children, children_file, f"{NAME}_children", record=record)
    check_listed(
        children,
        institutions,
        "institution_id",
        children_file,
        "a child's institution is listed in the institutions file",
        SPEC.header("institution_id", "children"),
    )


def transform() -> ModuleType:
    from barometer.transforms import childcare  # on use: a rerun reusing every source skips the import

    return childcare
