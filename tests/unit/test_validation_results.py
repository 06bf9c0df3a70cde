"""Rules as the suites and checks state them, on the forms the speed work gave them: missing
pseudonyms stay missing behind their integer codes, and a pair-of-files rule looked up in the
other file's distinct values still names the rows that break it."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from barometer.config import source_config
from barometer.sources import school_enrolment, survey
from barometer.sources.errors import DeliveryError
from barometer.validations import common
from barometer.validations.columns import table_expectations


def survey_table(respondents: list[str | None]) -> pd.DataFrame:
    size = len(respondents)
    config = source_config(survey.NAME)
    items = [*config["index_items"], config["discrimination_item"]]
    return pd.DataFrame(
        {
            "_row": np.arange(2, size + 2),
            "respondent_id": pd.array(respondents, dtype="string"),
            "interview_date": [date(2012, 10, 2)] * size,
            "weight": pd.array([1.5] * size, dtype="Float64"),
            "origin_group": pd.array(["minority"] * size, dtype="string"),
            **{item: pd.array(["1"] * size, dtype="string") for item in items},
        }
    )


def test_a_missing_respondent_id_breaks_the_rule_that_it_is_given_not_uniqueness():
    """Codes replace ids; a missing id stays missing rather than becoming a code of its own."""
    with pytest.raises(DeliveryError) as raised:
        common.check(
            survey_table(["501", None, "503", None]), table_expectations(survey.SPEC.table("survey")), "s.csv", "survey"
        )
    assert raised.value.rule == "respondent_id is given" and raised.value.rows == [3, 5]


def test_codes_keep_equality_and_missing_values():
    codes = common._codes(pd.Series(["b", None, "a", "b"], dtype="string"))
    assert codes[0] == codes[3] and codes[0] != codes[2] and np.isnan(codes[1])


def test_a_compared_school_is_checked_against_the_pupils_home_districts():
    schools = pd.DataFrame(
        {
            "_row": [2, 3, 4],
            "school_number": pd.array(["101001", "101002", "101003"], dtype="string"),
            "school_type": pd.array(["Folkeskole", "Folkeskole", "Privatskole"], dtype="string"),
            "district": pd.array([1, 2, 3], dtype="Int64"),
        }
    )
    pupils = pd.DataFrame(
        {
            "school_number": pd.array(["101001", "101002", "101003", None], dtype="string"),
            "district": pd.array([1, None, 3, 2], dtype="Int64"),
        }
    )
    school_enrolment.check_districts_have_pupils(schools, pupils, ["Folkeskole"], "skoler.csv")
    with pytest.raises(DeliveryError) as raised:
        school_enrolment.check_districts_have_pupils(schools, pupils.iloc[:3], ["Folkeskole"], "skoler.csv")
    assert raised.value.rows == [3] and raised.value.column == "bydel"
