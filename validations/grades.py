"""Rules for a grades delivery: grades on the 7-point scale (or absent/exempt/empty), the
background categories of the ministry's extract, six-digit school numbers, one row per pupil and
exam, one school and one background per pupil (a pupil's rows may spell the CPR number
differently: the pseudonym joins them), and graded pupils of both languages to compare.

One school year per delivery is enforced by the reader, which needs it for the reference date.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from barometer.config import source_config
from barometer.sources.base import ROW, StagedDelivery
from barometer.sources.errors import DeliveryError
from barometer.sources.grades import TEXT_COLUMNS
from barometer.validations.common import check, gx_expectations

NAME = "grades"
# Staged columns as the delivered file names them: error messages point into the file.
FILE_COLUMNS = {"person_id": "cpr", **TEXT_COLUMNS, "reference_date": "skoleaar"}
EDUCATIONS = [
    "Grundskole",
    "Gymnasial",
    "Erhvervsfaglig",
    "Kort videregående",
    "Mellemlang videregående",
    "Lang videregående",
    "Uoplyst",
]
EMPLOYMENTS = ["Beskæftiget", "Ledig", "Uden for arbejdsstyrken", "Uoplyst"]
INCOME_DECILES = [str(decile) for decile in range(1, 11)]
# staged column -> rule: what must be the same on every row of a pupil
ONE_PER_PUPIL = {
    "school": "one school per pupil in a school year",
    "bilingual": "a pupil's bilingual flag is the same on every exam row",
    "parents_education": "a pupil's parents' education is the same on every exam row",
    "parents_employment": "a pupil's parents' employment is the same on every exam row",
    "income_decile": "a pupil's income decile is the same on every exam row",
}


def expectations() -> list:
    config = source_config(NAME)
    E = gx_expectations()
    return [
        E.ExpectColumnValuesToBeInSet(
            column="grade",
            value_set=config["grade_scale"] + config["not_grades"],
            description="karakter is on the 7-point scale (12, 10, 7, 4, 02, 00, -3) or IM, FR or empty",
        ),
        E.ExpectColumnValuesToBeInSet(
            column="bilingual", value_set=["J", "N"], description="tosproget is J (bilingual) or N (monolingual)"
        ),
        E.ExpectColumnValuesToBeInSet(
            column="parents_education",
            value_set=EDUCATIONS,
            description="foraeldre_uddannelse is one of the ministry's seven education levels",
        ),
        E.ExpectColumnValuesToBeInSet(
            column="parents_employment",
            value_set=EMPLOYMENTS,
            description="foraeldre_beskaeftigelse is employed, unemployed, outside the labour force or unknown",
        ),
        E.ExpectColumnValuesToBeInSet(
            column="income_decile", value_set=INCOME_DECILES, description="husstandsindkomst_decil is 1-10 or empty"
        ),
        E.ExpectColumnValuesToMatchRegex(
            column="school", regex=r"^\d{6}$", description="institutionsnummer is a six-digit school number"
        ),
        E.ExpectCompoundColumnsToBeUnique(
            column_list=["person_id", "subject"], description="one row per pupil and exam subject (fag)"
        ),
    ]


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    table = staged.tables["grades"]
    file = staged.delivery.name
    check(table, expectations(), file, suite_name=NAME, labels=FILE_COLUMNS, record=record)
    check_one_per_pupil(table, file)
    check_both_languages_graded(table, file, source_config(NAME)["grade_scale"])


def check_one_per_pupil(table: pd.DataFrame, file: str) -> None:
    """A pupil's school and background are pupil-level facts: differing rows are named (all
    columns counted in one grouping, the first rule broken reported)."""
    distinct = table.groupby("person_id")[list(ONE_PER_PUPIL)].transform("nunique", dropna=False)
    for column, rule in ONE_PER_PUPIL.items():
        differs = distinct[column] > 1
        if differs.any():
            raise DeliveryError(
                file,
                rule,
                FILE_COLUMNS[column],
                table.loc[differs, ROW].tolist(),
                detail=f"{table.loc[differs, 'person_id'].nunique()} pupil(s) differ",
            )


def check_both_languages_graded(table: pd.DataFrame, file: str, scale: list[str]) -> None:
    """Indicator 1.1 compares bilingual with monolingual pupils: a school year without graded
    pupils of one kind (a flag column blanked or defaulted) cannot be compared."""
    graded = set(table.loc[table["grade"].isin(scale), "bilingual"].unique())
    missing = [flag for flag in ("J", "N") if flag not in graded]
    if missing:
        raise DeliveryError(
            file,
            "the school year has graded bilingual (J) and monolingual (N) pupils",
            FILE_COLUMNS["bilingual"],
            detail=f"no graded pupil has tosproget {missing[0]}",
        )
