"""CPR numbers become keyed pseudonyms, birth dates and sex; a malformed one is named by its row only."""

import re
from datetime import date

import pandas as pd
import pytest
from barometer.sources.errors import DeliveryError, MissingKeyError
from barometer.sources.pseudonym import PseudonymKey, split_cpr

KEY = PseudonymKey("test-key")
FILE = "youth_education/status.xlsx"


def split(*numbers: str | None, key: PseudonymKey = KEY) -> pd.DataFrame:
    """split_cpr over rows 2, 3, … of a delivered column."""
    rows = pd.Series(range(2, len(numbers) + 2))
    return split_cpr(pd.Series(numbers, dtype=object), FILE, "CPR", rows, key)


def test_hyphen_and_surrounding_spaces_do_not_change_the_pseudonym():
    persons = split("010190-1234", "0101901234", " 010190-1234 ")
    assert persons["person_id"].nunique() == 1
    assert persons["person_id"].str.fullmatch(r"[0-9a-f]{64}").all()


def test_pseudonym_depends_on_number_and_key():
    same_key = split("0101901234", "0101901235")["person_id"]
    other_key = split("0101901234", key=PseudonymKey("other-key"))["person_id"]
    assert same_key[0] != same_key[1]
    assert same_key[0] != other_key[0]


def test_key_has_a_stable_public_version_and_hides_its_secret():
    assert PseudonymKey("test-key").version == KEY.version
    assert len(KEY.version) == 8
    assert "test-key" not in repr(KEY)


@pytest.mark.parametrize("secret", ["", None])
def test_no_key_no_personal_data(secret):
    with pytest.raises(MissingKeyError, match="BAROMETER_PSEUDONYM_KEY"):
        PseudonymKey(secret)


@pytest.mark.parametrize(
    "cpr, born",
    [
        ("150537-0001", date(1937, 5, 15)),  # 7th digit 0-3: 1900s
        ("150599-3001", date(1999, 5, 15)),
        ("150536-4001", date(2036, 5, 15)),  # 4 or 9: 2000s up to year 36 ...
        ("150537-4001", date(1937, 5, 15)),  # ... 1900s from 37
        ("010105-9001", date(2005, 1, 1)),
        ("010137-9001", date(1937, 1, 1)),
        ("010157-5001", date(2057, 1, 1)),  # 5-8: 2000s up to year 57 ...
        ("010158-8001", date(1858, 1, 1)),  # ... 1800s from 58
        ("290200-6001", date(2000, 2, 29)),  # a leap day
    ],
)
def test_century_follows_the_seventh_digit(cpr, born):
    assert split(cpr)["cpr_birth_date"].tolist() == [born]


def test_sex_from_the_last_digit():
    assert split("010190-1233", "010190-1234")["sex"].tolist() == ["M", "K"]


@pytest.mark.parametrize(
    "malformed",
    [
        "010190123",
        "01019012345",
        "01-01-90-1234",
        "0101901-234",
        "01019O1234",  # form
        "320190-1234",
        "011390-1234",
        "290290-1234",  # no such date (1990 is no leap year)
        "",
        None,
    ],
)
def test_malformed_number_is_named_by_row_never_by_value(malformed):
    with pytest.raises(DeliveryError) as caught:
        split("010190-1234", malformed, "020190-1234")
    error = caught.value
    assert (error.file, error.column, error.rows) == (FILE, "CPR", [3])
    assert str(error).startswith(f"{FILE}: rule 'CPR number has the form DDMMYY-SSSS or DDMMYYSSSS")
    assert "at row 3" in str(error)
    assert not re.search(r"\d{4}", str(error).replace("DDMMYY", "")), "no CPR digits in the message"
