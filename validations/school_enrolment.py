"""Rules for a school_enrolment delivery: a November extract, the register's categories, known
districts in both files, one row per school and per pupil, ages within the register's 6-16 band,
every pupil's school in the school list, and resident pupils in every compared school's district.

One reference date per delivery is enforced when reading (`single_reference_date`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from barometer.config import source_config
from barometer.config.districts import has_districts
from barometer.sources.base import ROW, StagedDelivery, folder_file
from barometer.sources.errors import DeliveryError
from barometer.sources.school_enrolment import BILINGUAL_CODES, NAME
from barometer.validations.common import check, check_districts, check_reference_date, gx_expectations

SCHOOL_TYPES = ["Folkeskole", "Privatskole", "Specialskole"]
AGE_BAND = (6, 16)
# Per table, staged columns as the delivered files name them: error messages point into the file.
FILE_COLUMNS = {
    "schools": {
        "school_number": "institutionsnummer",
        "school_name": "skolenavn",
        "district_name": "bydel",
        "district": "bydel",
        "school_type": "skoletype",
    },
    "pupils": {
        "person_id": "cpr",
        "birth_date": "cpr",
        "age": "cpr",
        "school_number": "institutionsnummer",
        "district_name": "bopaelsbydel",
        "district": "bopaelsbydel",
        "bilingual_code": "tosproget",
        "bilingual": "tosproget",
        "reference_date": "opgoerelsesdato",
    },
}


def school_expectations(counted_types: list[str], by_district: bool = True) -> list:
    """Without districts (a municipality published city-wide) schools are compared with the
    whole municipality, so none needs a district."""
    E = gx_expectations()
    district = [
        E.ExpectColumnValuesToNotBeNull(
            column="district",
            row_condition=f"school_type in {counted_types!r}",
            condition_parser="pandas",
            description="a school whose pupils are compared with its district has a district",
        )
    ]
    return [
        E.ExpectColumnValuesToNotBeNull(column="school_number", description="school number is given"),
        E.ExpectColumnValuesToBeUnique(column="school_number", description="one row per school"),
        E.ExpectColumnValuesToNotBeNull(column="school_type", description="school type is given"),
        E.ExpectColumnValuesToBeInSet(
            column="school_type",
            value_set=SCHOOL_TYPES,
            description="school type is Folkeskole, Privatskole or Specialskole",
        ),
    ] + (district if by_district else [])


def pupil_expectations() -> list:
    E = gx_expectations()
    return [
        E.ExpectColumnValuesToBeUnique(column="person_id", description="one row per pupil"),
        E.ExpectColumnValuesToNotBeNull(column="bilingual_code", description="bilingual flag is given"),
        E.ExpectColumnValuesToBeInSet(
            column="bilingual_code", value_set=list(BILINGUAL_CODES), description="bilingual flag (tosproget) is J or N"
        ),
        E.ExpectColumnValuesToBeBetween(
            column="age",
            min_value=AGE_BAND[0],
            max_value=AGE_BAND[1],
            description="age on the reference date (from the CPR number) within the register's 6-16 band",
        ),
    ]


def check_schools_listed(pupils: pd.DataFrame, schools: pd.DataFrame, file: str) -> None:
    """A pupil's school number, when given, is in the delivery's school list."""
    unlisted = pupils["school_number"].notna() & ~pupils["school_number"].isin(schools["school_number"])
    if unlisted.any():
        raise DeliveryError(
            file,
            "pupil's school is in the school list",
            FILE_COLUMNS["pupils"]["school_number"],
            pupils.loc[unlisted, ROW].tolist(),
            detail=f"{int(unlisted.sum())} row(s) name a school the list lacks",
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
            FILE_COLUMNS["schools"]["district"],
            schools.loc[alone, ROW].tolist(),
        )


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    schools, pupils = staged.tables["schools"], staged.tables["pupils"]
    config = source_config(NAME)
    schools_file = folder_file(staged.delivery, config["files"]["schools"])[1]
    pupils_file = folder_file(staged.delivery, config["files"]["pupils"])[1]
    counted_types = config["school_types_counted"]
    check_reference_date(
        pupils, pupils_file, FILE_COLUMNS["pupils"]["reference_date"], "reference date is in November", {11}
    )
    check_districts(schools, schools_file, FILE_COLUMNS["schools"]["district_name"])
    check_districts(pupils, pupils_file, FILE_COLUMNS["pupils"]["district_name"])
    by_district = has_districts(staged.municipality_code)
    check(
        schools,
        school_expectations(counted_types, by_district),
        schools_file,
        f"{NAME}.schools",
        FILE_COLUMNS["schools"],
        record=record,
    )
    check(pupils, pupil_expectations(), pupils_file, f"{NAME}.pupils", FILE_COLUMNS["pupils"], record=record)
    check_schools_listed(pupils, schools, pupils_file)
    if by_district:
        check_districts_have_pupils(schools, pupils, counted_types, schools_file)
