"""school_enrolment: the November pupil register, a folder of two UTF-8-with-BOM `;` CSVs.

`skoler*.csv` lists the schools, `elever*.csv` every resident child aged 6-16 with the school
they attend (empty: none known). The reference date is the pupils' `opgoerelsesdato`; the
school list carries none, so it takes the pupils' date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import ModuleType
from typing import Any

import pandas as pd
from barometer.config import source_config
from barometer.config.districts import has_districts
from barometer.sources.errors import DeliveryError
from barometer.sources.parsing import age_on, blank_as_missing, district_columns, single_reference_date
from barometer.sources.pseudonym import PseudonymKey, pseudonymise_cpr
from barometer.sources.reader import read_table, table_file
from barometer.sources.registers import district_columns as district_spec
from barometer.sources.spec import Column, FileFormat, SourceSpec, Table
from barometer.sources.staged import ROW, Delivery, StagedDelivery
from barometer.validations.columns import check_table
from barometer.validations.common import check_districts, check_listed, check_reference_date, gx_expectations

NAME = "school_enrolment"
BILINGUAL_CODES = {"J": True, "N": False}
SCHOOL_TYPES = ("Folkeskole", "Privatskole", "Specialskole")
AGE_BAND = (6, 16)

SPEC = SourceSpec(
    name=NAME,
    label="Elevregisteret (folkeskoler)",
    description="pupils + schools",
    format=FileFormat("csv", encoding="utf-8-sig"),
    reference_date="the pupils' opgoerelsesdato, in November (one per delivery); the school list takes it",
    privacy="CPR, school, district of residence, bilingual flag (the schools file holds none)",
    identifiers="CPR → pseudonym",
    tables=(
        Table(
            "schools",
            (
                Column(
                    "school_number", "institutionsnummer", "the school's number",
                    required="school number is given", unique="one row per school",
                ),
                Column("school_name", "skolenavn", "the school's name"),
                *district_spec("bydel", computed=False),
                Column(
                    "school_type", "skoletype", "Folkeskole, Privatskole or Specialskole",
                    required="school type is given", allowed=SCHOOL_TYPES,
                    allowed_rule="school type is Folkeskole, Privatskole or Specialskole",
                ),
                Column(
                    "reference_date", "opgoerelsesdato", "the pupils' reference date (the list carries none)", "date",
                    derived=True,
                ),
            ),
            file_pattern="skoler*.csv",
        ),
        Table(
            "pupils",
            (
                Column(
                    "person_id", "cpr", "the pupil (HMAC of the CPR number)", "pseudonym", personal=True,
                    unique="one row per pupil",
                ),
                Column("birth_date", "cpr", "the CPR number's date of birth", "date", derived=True),
                Column(
                    "school_number", "institutionsnummer", "the school attended (empty: none known)", computed=True,
                ),
                *district_spec("bopaelsbydel"),
                Column(
                    "bilingual_code", "tosproget", "J (bilingual) or N", required="bilingual flag is given",
                    allowed=tuple(BILINGUAL_CODES), allowed_rule="bilingual flag (tosproget) is J or N",
                ),
                Column("bilingual", "tosproget", "bilingual, as a flag", "flag", derived=True, computed=True),
                Column(
                    "age", "cpr", "age on the reference date", "integer", derived=True, between=AGE_BAND,
                    between_rule="age on the reference date (from the CPR number) within the register's 6-16 band",
                ),
                Column("reference_date", "opgoerelsesdato", "the register's date", "date", computed=True),
            ),
            file_pattern="elever*.csv",
        ),
    ),
)  # fmt: skip


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> StagedDelivery:
    pupils = _read_pupils(delivery, key, municipality_code)
    reference_date = pupils["reference_date"].iloc[0]
    schools = _read_schools(delivery, municipality_code, reference_date)
    return StagedDelivery(
        delivery,
        reference_date,
        {"schools": schools, "pupils": pupils},
        key.version,
        municipality_code=municipality_code,
    )


def _read_pupils(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> pd.DataFrame:
    file = table_file(SPEC, "pupils", delivery)[1]
    raw = read_table(
        SPEC,
        "pupils",
        delivery,
        prepare=pseudonymise_cpr("person_id", file, key, label=SPEC.header("person_id", "pupils")),
    )
    reference_date = single_reference_date(
        raw["reference_date"], file, SPEC.header("reference_date", "pupils"), raw[ROW]
    )
    bilingual_code = blank_as_missing(raw["bilingual_code"])
    return pd.DataFrame(
        {
            ROW: raw[ROW],
            "person_id": raw["person_id"],
            "birth_date": raw["cpr_birth_date"],
            "age": age_on(raw["cpr_birth_date"], reference_date),
            "school_number": blank_as_missing(raw["school_number"]),
            **district_columns(raw["district_name"], municipality_code, blank_as_missing),
            "bilingual_code": bilingual_code,
            "bilingual": bilingual_code.map(BILINGUAL_CODES).astype("boolean"),
            "reference_date": reference_date,
        }
    )


def _read_schools(delivery: Delivery, municipality_code: str, reference_date: date) -> pd.DataFrame:
    raw = read_table(SPEC, "schools", delivery)
    return pd.DataFrame(
        {
            ROW: raw[ROW],
            "school_number": blank_as_missing(raw["school_number"]),
            "school_name": blank_as_missing(raw["school_name"]),
            **district_columns(raw["district_name"], municipality_code, blank_as_missing),
            "school_type": blank_as_missing(raw["school_type"]),
            "reference_date": reference_date,
        }
    )


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    """A November extract with known districts in both files, then the spec's rules, every
    pupil's school in the school list, and resident pupils in every compared school's district.
    One reference date per delivery is enforced when reading (`single_reference_date`)."""
    schools, pupils = staged.tables["schools"], staged.tables["pupils"]
    schools_file = table_file(SPEC, "schools", staged.delivery)[1]
    pupils_file = table_file(SPEC, "pupils", staged.delivery)[1]
    counted_types = source_config(NAME)["school_types_counted"]
    check_reference_date(
        pupils, pupils_file, SPEC.header("reference_date", "pupils"), "reference date is in November", {11}
    )
    check_districts(schools, schools_file, SPEC.header("district_name", "schools"))
    check_districts(pupils, pupils_file, SPEC.header("district_name", "pupils"))
    by_district = has_districts(staged.municipality)
    extra = [_school_district_expectation(counted_types)] if by_district else []
    check_table(SPEC.table("schools"), schools, schools_file, f"{NAME}.schools", extra=extra, record=record)
    check_table(SPEC.table("pupils"), pupils, pupils_file, f"{NAME}.pupils", record=record)
    check_listed(
        pupils,
        schools,
        "school_number",
        pupils_file,
        "pupil's school is in the school list",
        SPEC.header("school_number", "pupils"),
        detail="{count} row(s) name a school the list lacks",
    )
    if by_district:
        check_districts_have_pupils(schools, pupils, counted_types, schools_file)


def _school_district_expectation(counted_types: list[str]):
    """A compared school needs a district; without districts (a municipality published
    city-wide) schools are compared with the whole municipality, so none does."""
    return gx_expectations().ExpectColumnValuesToNotBeNull(
        column="district",
        row_condition=f"school_type in {counted_types!r}",
        condition_parser="pandas",
        description="a school whose pupils are compared with its district has a district",
    )


def check_districts_have_pupils(
    schools: pd.DataFrame, pupils: pd.DataFrame, counted_types: list[str], file: str
) -> None:
    """Indicator 1.3 compares a school with the pupils living in its district: a compared school
    whose district is nobody's home district (bopaelsbydel blanked or wrong) cannot be compared.
    The pupils' distinct values are looked up: a text column's `isin` loops over its argument."""
    attended = pupils["school_number"].dropna().unique()
    compared = schools["school_type"].isin(counted_types) & schools["school_number"].isin(attended)
    alone = compared & ~schools["district"].isin(pupils["district"].dropna().unique())
    if alone.any():
        raise DeliveryError(
            file,
            "a compared school's district is the home district (bopaelsbydel) of a pupil",
            SPEC.header("district_name", "schools"),
            schools.loc[alone, ROW].tolist(),
        )


def transform() -> ModuleType:
    from barometer.transforms import school_enrolment  # on use: a rerun reusing every source skips the import

    return school_enrolment
