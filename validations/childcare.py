"""Rules for a childcare delivery: known institution types, origins and districts in both files,
one row per institution and per child, ages within the register's 0-13 band, and every child's
institution listed in the institutions file."""

from __future__ import annotations

import great_expectations as gx
import pandas as pd

from sources.base import ROW, StagedDelivery, folder_file
from sources.childcare import FILES, NAME
from sources.errors import DeliveryError
from sources.origin import ORIGIN_GROUPS
from validations.common import check, check_districts

INSTITUTION_TYPES = ["Vuggestue", "Børnehave", "Integreret", "Fritidshjem", "KKFO", "Fritidsklub"]
AGE_BAND = (0, 13)


def institution_expectations() -> list:
    E = gx.expectations
    return [
        E.ExpectColumnValuesToNotBeNull(column="institution_id", description="institution id is given"),
        E.ExpectColumnValuesToBeUnique(column="institution_id", description="one row per institution"),
        E.ExpectColumnValuesToBeInSet(column="type", value_set=INSTITUTION_TYPES,
                                      description="type is one of the six kinds of institution"),
        E.ExpectColumnValuesToNotBeNull(column="district", description="institution's district is given"),
    ]


def child_expectations() -> list:
    E = gx.expectations
    return [
        E.ExpectColumnValuesToBeInSet(column="origin", value_set=list(ORIGIN_GROUPS),
                                      description="origin (herkomst) is one of Statistics Denmark's five categories"),
        E.ExpectColumnValuesToBeUnique(column="person_id", description="one row per child"),
        E.ExpectColumnValuesToBeBetween(column="age", min_value=AGE_BAND[0], max_value=AGE_BAND[1],
                                        description="age on the reference date within the register's 0-13 band"),
    ]


def validate(staged: StagedDelivery) -> None:
    institutions, children = staged.tables["institutions"], staged.tables["children"]
    institutions_file = folder_file(staged.delivery, FILES["institutions"])[1]
    children_file = folder_file(staged.delivery, FILES["children"])[1]
    check_districts(institutions, institutions_file, "bydel")
    check(institutions, institution_expectations(), institutions_file, suite_name=f"{NAME}_institutions")
    check_districts(children, children_file, "bopaelsbydel")
    check_born_by_reference_date(children, children_file)
    check(children, child_expectations(), children_file, suite_name=f"{NAME}_children")
    check_institutions_listed(children, institutions, children_file)


def check_born_by_reference_date(children: pd.DataFrame, file: str) -> None:
    """Checked before the age band, whose message would hide the cause."""
    unborn = pd.to_datetime(children["birth_date"]) > pd.to_datetime(children["reference_date"])
    if unborn.any():
        raise DeliveryError(file, "date of birth is not after the reference date", "foedselsdato",
                            children.loc[unborn, ROW].tolist())


def check_institutions_listed(children: pd.DataFrame, institutions: pd.DataFrame, file: str) -> None:
    """A pair-of-files rule no suite expresses: every child's institution is in institutioner."""
    unlisted = children["institution_id"].notna() & ~children["institution_id"].isin(institutions["institution_id"])
    if unlisted.any():
        raise DeliveryError(file, "a child's institution is listed in the institutions file", "institution_id",
                            children.loc[unlisted, ROW].tolist())
