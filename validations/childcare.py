"""Rules for a childcare delivery: a February or November extract, known institution types,
origins and districts in both files, one row per institution and per child, birth dates not
after the reference date, ages within the register's 0-13 band, and every child's institution
listed in the institutions file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from barometer.config.districts import has_districts
from barometer.sources.base import ROW, StagedDelivery, folder_file
from barometer.sources.childcare import FILES, NAME
from barometer.sources.errors import DeliveryError
from barometer.validations.common import (
    check,
    check_districts,
    check_reference_date,
    gx_expectations,
    person_register_expectations,
)

INSTITUTION_TYPES = ["Vuggestue", "Børnehave", "Integreret", "Fritidshjem", "KKFO", "Fritidsklub"]
AGE_BAND = (0, 13)
# Per table, staged columns as the delivered files name them: error messages point into the file.
FILE_COLUMNS = {
    "institutions": {
        "institution_id": "institution_id",
        "name": "navn",
        "type": "type",
        "district_name": "bydel",
        "district": "bydel",
    },
    "children": {
        "person_id": "cpr",
        "birth_date": "foedselsdato",
        "age": "foedselsdato",
        "origin": "herkomst",
        "origin_group": "herkomst",
        "district_name": "bopaelsbydel",
        "district": "bopaelsbydel",
        "institution_id": "institution_id",
        "reference_date": "opgoerelsesdato",
    },
}


def institution_expectations(by_district: bool = True) -> list:
    E = gx_expectations()
    district = [E.ExpectColumnValuesToNotBeNull(column="district", description="institution's district is given")]
    return [
        E.ExpectColumnValuesToNotBeNull(column="institution_id", description="institution id is given"),
        E.ExpectColumnValuesToBeUnique(column="institution_id", description="one row per institution"),
        E.ExpectColumnValuesToBeInSet(
            column="type", value_set=INSTITUTION_TYPES, description="type is one of the six kinds of institution"
        ),
    ] + (district if by_district else [])


def child_expectations() -> list:
    return person_register_expectations("herkomst", "child", AGE_BAND)


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    institutions, children = staged.tables["institutions"], staged.tables["children"]
    institutions_file = folder_file(staged.delivery, FILES["institutions"])[1]
    children_file = folder_file(staged.delivery, FILES["children"])[1]
    labels = FILE_COLUMNS["institutions"]
    check_districts(institutions, institutions_file, labels["district_name"])
    by_district = has_districts(staged.municipality_code)
    check(
        institutions,
        institution_expectations(by_district),
        institutions_file,
        f"{NAME}_institutions",
        labels,
        record=record,
    )
    labels = FILE_COLUMNS["children"]
    check_reference_date(
        children, children_file, labels["reference_date"], "reference date is in February or November", {2, 11}
    )
    check_districts(children, children_file, labels["district_name"])
    check(children, child_expectations(), children_file, f"{NAME}_children", labels, record=record)
    check_institutions_listed(children, institutions, children_file)


def check_institutions_listed(children: pd.DataFrame, institutions: pd.DataFrame, file: str) -> None:
    """A pair-of-files rule no suite expresses: every child's institution is in institutioner."""
    unlisted = children["institution_id"].notna() & ~children["institution_id"].isin(institutions["institution_id"])
    if unlisted.any():
        raise DeliveryError(
            file,
            "a child's institution is listed in the institutions file",
            "institution_id",
            children.loc[unlisted, ROW].tolist(),
        )
