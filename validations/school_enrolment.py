"""Rules for a school_enrolment delivery: the register's categories, known districts in both
files, one row per school and per pupil, and every pupil's school in the school list.

One reference date per delivery is enforced when reading (`single_reference_date`).
"""

from __future__ import annotations

import great_expectations as gx
import pandas as pd

from config import source_config
from sources.base import ROW, StagedDelivery, folder_file
from sources.errors import DeliveryError
from sources.school_enrolment import BILINGUAL_CODES, NAME
from validations.common import check, check_districts

SCHOOL_TYPES = ["Folkeskole", "Privatskole", "Specialskole"]


def school_expectations(counted_types: list[str]) -> list:
    E = gx.expectations
    return [
        E.ExpectColumnValuesToNotBeNull(column="school_number", description="school number is given"),
        E.ExpectColumnValuesToBeUnique(column="school_number", description="one row per school"),
        E.ExpectColumnValuesToNotBeNull(column="school_type", description="school type is given"),
        E.ExpectColumnValuesToBeInSet(column="school_type", value_set=SCHOOL_TYPES,
                                      description="school type is Folkeskole, Privatskole or Specialskole"),
        E.ExpectColumnValuesToNotBeNull(
            column="district", row_condition=f"school_type in {counted_types!r}", condition_parser="pandas",
            description="a school whose pupils are compared with its district has a district"),
    ]


def pupil_expectations() -> list:
    E = gx.expectations
    return [
        E.ExpectColumnValuesToBeUnique(column="person_id", description="one row per pupil"),
        E.ExpectColumnValuesToNotBeNull(column="bilingual_code", description="bilingual flag is given"),
        E.ExpectColumnValuesToBeInSet(column="bilingual_code", value_set=list(BILINGUAL_CODES),
                                      description="bilingual flag (tosproget) is J or N"),
    ]


def check_schools_listed(pupils: pd.DataFrame, schools: pd.DataFrame, file: str) -> None:
    """A pupil's school number, when given, is in the delivery's school list."""
    unlisted = pupils["school_number"].notna() & ~pupils["school_number"].isin(schools["school_number"])
    if unlisted.any():
        raise DeliveryError(file, "pupil's school is in the school list", "institutionsnummer",
                            pupils.loc[unlisted, ROW].tolist(),
                            detail=f"{int(unlisted.sum())} row(s) name a school the list lacks")


def validate(staged: StagedDelivery) -> None:
    schools, pupils = staged.tables["schools"], staged.tables["pupils"]
    config = source_config(NAME)
    schools_file = folder_file(staged.delivery, config["files"]["schools"])[1]
    pupils_file = folder_file(staged.delivery, config["files"]["pupils"])[1]
    counted_types = config["school_types_counted"]
    check_districts(schools, schools_file, "bydel")
    check_districts(pupils, pupils_file, "bopaelsbydel")
    check(schools, school_expectations(counted_types), schools_file, suite_name=f"{NAME}.schools")
    check(pupils, pupil_expectations(), pupils_file, suite_name=f"{NAME}.pupils")
    check_schools_listed(pupils, schools, pupils_file)
