"""Rules for a grades delivery: grades on the 7-point scale (or absent/exempt/empty), the
background categories of the ministry's extract, six-digit school numbers, and one school and one
background per pupil (a pupil's rows may spell the CPR number differently: the pseudonym joins them).

One school year per delivery is enforced by the reader, which needs it for the reference date.
Expectations run on staged columns; each description names the file's column.
"""

from __future__ import annotations

import great_expectations as gx
import pandas as pd

from config import source_config
from sources.base import ROW, StagedDelivery
from sources.errors import DeliveryError
from validations.common import check

NAME = "grades"
EDUCATIONS = ["Grundskole", "Gymnasial", "Erhvervsfaglig", "Kort videregående",
              "Mellemlang videregående", "Lang videregående", "Uoplyst"]
EMPLOYMENTS = ["Beskæftiget", "Ledig", "Uden for arbejdsstyrken", "Uoplyst"]
INCOME_DECILES = [str(decile) for decile in range(1, 11)]
# staged column -> (file column, rule): what must be the same on every row of a pupil
ONE_PER_PUPIL = {
    "school": ("institutionsnummer", "one school per pupil in a school year"),
    "bilingual": ("tosproget", "a pupil's bilingual flag is the same on every exam row"),
    "parents_education": ("foraeldre_uddannelse", "a pupil's parents' education is the same on every exam row"),
    "parents_employment": ("foraeldre_beskaeftigelse", "a pupil's parents' employment is the same on every exam row"),
    "income_decile": ("husstandsindkomst_decil", "a pupil's income decile is the same on every exam row"),
}


def expectations() -> list:
    config = source_config(NAME)
    E = gx.expectations
    return [
        E.ExpectColumnValuesToBeInSet(column="grade", value_set=config["grade_scale"] + config["not_grades"],
                                      description="karakter is on the 7-point scale (12, 10, 7, 4, 02, 00, -3) or IM, FR or empty"),
        E.ExpectColumnValuesToBeInSet(column="bilingual", value_set=["J", "N"],
                                      description="tosproget is J (bilingual) or N (monolingual)"),
        E.ExpectColumnValuesToBeInSet(column="parents_education", value_set=EDUCATIONS,
                                      description="foraeldre_uddannelse is one of the ministry's seven education levels"),
        E.ExpectColumnValuesToBeInSet(column="parents_employment", value_set=EMPLOYMENTS,
                                      description="foraeldre_beskaeftigelse is employed, unemployed, outside the labour force or unknown"),
        E.ExpectColumnValuesToBeInSet(column="income_decile", value_set=INCOME_DECILES,
                                      description="husstandsindkomst_decil is 1-10 or empty"),
        E.ExpectColumnValuesToMatchRegex(column="school", regex=r"^\d{6}$",
                                         description="institutionsnummer is a six-digit school number"),
    ]


def validate(staged: StagedDelivery) -> None:
    table = staged.tables["grades"]
    file = staged.delivery.name
    check(table, expectations(), file, suite_name=NAME)
    check_one_per_pupil(table, file)


def check_one_per_pupil(table: pd.DataFrame, file: str) -> None:
    """A pupil's school and background are pupil-level facts: differing rows are named."""
    for column, (file_column, rule) in ONE_PER_PUPIL.items():
        distinct = table.groupby("person_id")[column].transform("nunique", dropna=False)
        if (distinct > 1).any():
            raise DeliveryError(file, rule, file_column, table.loc[distinct > 1, ROW].tolist(),
                                detail=f"{table.loc[distinct > 1, 'person_id'].nunique()} pupil(s) differ")
