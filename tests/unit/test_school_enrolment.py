"""school_enrolment: folder deliveries read, validated and turned into indicator 1.3."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from barometer.demo import school_enrolment as demo
from barometer.sources import school_enrolment as source
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import find_deliveries
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.school_enrolment import validate
from barometer.sources.staged import Delivery
from barometer.transforms.school_enrolment import compute

KEY = PseudonymKey("test-key")
SCHOOL_HEADER = "institutionsnummer;skolenavn;bydel;skoletype"
PUPIL_HEADER = "cpr;institutionsnummer;bopaelsbydel;tosproget;opgoerelsesdato"

# November 2011, hand-computed (see test_transform_by_hand):
# Valby (5) residents: 9 + 4 + 2 + 5 = 20 children, 2 + 2 = 4 bilingual -> 20 %
# Nørrebro (3) residents: 1 + 3 + 6 = 10 children, 1 + 3 = 4 bilingual -> 40 %
SCHOOLS_2011 = [
    ("101001", "Skolen ved Åen", "Valby", "Folkeskole"),  # 3/10 = 30 % vs 20 %: exactly 10 points
    ("101002", "Søndermarkskolen", "VALBY ", "Folkeskole"),  # 0/4 = 0 % vs 20 %: deviates
    ("101003", "Blågårdsskolen", "Nørrebro", "Folkeskole"),  # 5/5 = 100 % vs 40 %: deviates
    ("101004", "Den Frie Skole", "NØRREBRO", "Privatskole"),  # not a public school
    ("101005", "Nyskolen", "Nørrebro", "Folkeskole"),  # no pupils: not counted
    ("101006", "Heldagsskolen", "Vesterbro/Kgs. Enghave", "Specialskole"),
]
# (school, home district, tosproget, number of children)
PUPILS_2011 = [
    ("101001", "Valby", "J", 2),
    ("101001", "Valby", "N", 7),
    ("", "Brønshøj-Husum", "N", 1),
    ("101001", "Nørrebro", "J", 1),
    ("101002", "valby", "N", 4),
    ("101003", "Nørrebro", "J", 3),
    ("101003", "Valby", "J", 2),
    ("101004", "NØRREBRO", "N", 6),
    ("", "Valby", "N", 5),
    ("", "", "J", 1),
]
# November 2012: the same school number, now in Indre By: 1/4 = 25 % vs 1/6 = 16.7 %: no deviation
SCHOOLS_2012 = [("101001", "Skolen ved Åen", "Indre By", "Folkeskole")]
PUPILS_2012 = [
    ("101001", "Indre By", "J", 1),
    ("101001", "INDRE BY", "N", 3),
    ("", "AMAGER VEST ", "N", 1),
    ("", "Indre by", "N", 2),
]


def cpr_numbers(count: int, start: int = 0) -> list[str]:
    """Synthetic CPR numbers of children born in 2003 (7th digit 4: the 2000s), every other
    one with a hyphen."""
    numbers = []
    for i in range(start, start + count):
        digits = f"{1 + i % 28:02d}{1 + i // 28 % 12:02d}034{i:03d}"
        numbers.append(f"{digits[:6]}-{digits[6:]}" if i % 2 else digits)
    return numbers


def pupil_rows(groups: list[tuple], reference_date: str) -> list[str]:
    school_district_flag = [(s, d, f) for s, d, f, count in groups for _ in range(count)]
    cprs = cpr_numbers(len(school_district_flag))
    return [f"{cpr};{s};{d};{f};{reference_date}" for cpr, (s, d, f) in zip(cprs, school_district_flag, strict=True)]


def write_csv(path: Path, header: str, rows: list[str]) -> None:
    path.write_text("\r\n".join([header, *rows]) + "\r\n", encoding="utf-8-sig")


def write_delivery(landing: Path, folder: str, schools: list[tuple], pupils: list[str]) -> Path:
    """A delivery folder as the register sends it: two UTF-8-with-BOM `;` files."""
    path = landing / "school_enrolment" / folder
    path.mkdir(parents=True)
    write_csv(path / "skoler_nov.csv", SCHOOL_HEADER, [";".join(school) for school in schools])
    write_csv(path / "elever_nov.csv", PUPIL_HEADER, pupils)
    return path


def delivery(path: Path) -> Delivery:
    return next(d for d in find_deliveries(source.NAME, path.parent, ignore=[]) if d.path == path)


@pytest.fixture
def november_2011(tmp_path: Path) -> Path:
    return write_delivery(tmp_path, "levering A", SCHOOLS_2011, pupil_rows(PUPILS_2011, "2011-11-04"))


def assert_safe(error: DeliveryError, *needles: str) -> None:
    """The message names what it must, and no CPR number, with or without hyphen."""
    message = str(error)
    for needle in needles:
        assert needle in message
    for cpr in cpr_numbers(40):
        assert cpr not in message and cpr.replace("-", "") not in message


def test_read_stages_schools_and_pseudonymised_pupils(november_2011: Path) -> None:
    staged = source.read(delivery(november_2011), KEY, "101")
    schools, pupils = staged.tables["schools"], staged.tables["pupils"]
    assert staged.reference_date == date(2011, 11, 4)
    assert set(staged.tables) == {table.name for table in source.SPEC.tables}
    assert list(schools["district"]) == [5, 5, 3, 3, 3, 4]
    assert schools["_row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert len(pupils) == 32 and "cpr" not in pupils.columns
    assert pupils["person_id"].nunique() == 32
    assert pupils["age"].eq(8).all()
    assert pupils["school_number"].isna().sum() == 7
    assert pupils["district"].isna().sum() == 1
    assert pupils["bilingual"].sum() == 9
    assert (pupils["reference_date"] == date(2011, 11, 4)).all()
    text = pupils.astype(str).to_csv()
    assert not any(cpr.replace("-", "") in text or cpr in text for cpr in cpr_numbers(32))
    validate(staged)


@pytest.mark.parametrize(
    "remove, add, detail",
    [
        ("elever_nov.csv", None, "0 files match"),
        (None, "skoler_rettet.csv", "2 files match"),
    ],
)
def test_folder_needs_exactly_one_file_per_table(november_2011: Path, remove, add, detail) -> None:
    if remove:
        (november_2011 / remove).unlink()
    if add:
        (november_2011 / add).write_bytes((november_2011 / "skoler_nov.csv").read_bytes())
    with pytest.raises(DeliveryError) as raised:
        source.read(delivery(november_2011), KEY, "101")
    pattern = "elever*.csv" if remove else "skoler*.csv"
    assert_safe(raised.value, "school_enrolment/levering A", pattern, detail)


def test_two_reference_dates_are_refused(tmp_path: Path) -> None:
    rows = pupil_rows(PUPILS_2011, "2011-11-04")
    rows[3] = rows[3].replace("2011-11-04", "2011-11-05")
    path = write_delivery(tmp_path, "levering", SCHOOLS_2011, rows)
    with pytest.raises(DeliveryError) as raised:
        source.read(delivery(path), KEY, "101")
    assert_safe(raised.value, "elever_nov.csv", "one reference date per delivery", "opgoerelsesdato", "row 5")


def broken_school_type(schools, pupils):
    schools[1] = ("101002", "Søndermarkskolen", "Valby", "Friskole")
    return schools, pupils


def public_school_without_district(schools, pupils):
    schools[2] = ("101003", "Blågårdsskolen", "", "Folkeskole")
    return schools, pupils


def duplicate_school(schools, pupils):
    schools[4] = ("101003", "Nyskolen", "Nørrebro", "Folkeskole")
    return schools, pupils


def unknown_home_district(schools, pupils):
    pupils[2] = pupils[2].replace(";Valby;", ";Frederiksberg;")
    return schools, pupils


def broken_flag(schools, pupils):
    pupils[6] = pupils[6].replace(";N;", ";X;")
    return schools, pupils


def pupil_twice(schools, pupils):
    first = pupils[0].split(";")[0]
    pupils[9] = ";".join([first[:6] + "-" + first[6:]] + pupils[9].split(";")[1:])  # other spelling
    return schools, pupils


def unlisted_school(schools, pupils):
    pupils[12] = pupils[12].replace("101002", "109999")
    return schools, pupils


@pytest.mark.parametrize(
    "breaking, file, rule, column, rows",
    [
        (
            broken_school_type,
            "skoler_nov.csv",
            "school type is Folkeskole, Privatskole or Specialskole",
            "skoletype",
            "row 3",
        ),
        (public_school_without_district, "skoler_nov.csv", "has a district", "bydel", "row 4"),
        (duplicate_school, "skoler_nov.csv", "one row per school", "institutionsnummer", "rows 4, 6"),
        (unknown_home_district, "elever_nov.csv", "one of the ten official districts", "bopaelsbydel", "row 4"),
        (broken_flag, "elever_nov.csv", "bilingual flag (tosproget) is J or N", "tosproget", "row 8"),
        (pupil_twice, "elever_nov.csv", "one row per pupil", "cpr", "rows 2, 11"),
        (unlisted_school, "elever_nov.csv", "pupil's school is in the school list", "institutionsnummer", "row 14"),
    ],
)
def test_validation_names_file_rule_column_and_rows(tmp_path: Path, breaking, file, rule, column, rows) -> None:
    schools, pupils = breaking(list(SCHOOLS_2011), pupil_rows(PUPILS_2011, "2011-11-04"))
    path = write_delivery(tmp_path, "levering", schools, pupils)
    with pytest.raises(DeliveryError) as raised:
        validate(source.read(delivery(path), KEY, "101"))
    assert_safe(raised.value, f"school_enrolment/levering/{file}", rule, f"column '{column}'", rows)


def test_transform_by_hand(november_2011: Path) -> None:
    november_2012 = write_delivery(
        november_2011.parent.parent, "levering B", SCHOOLS_2012, pupil_rows(PUPILS_2012, "2012-11-05")
    )
    staged = [source.read(delivery(path), KEY, "101") for path in (november_2011, november_2012)]
    tables = {name: pd.concat([s.tables[name] for s in staged], ignore_index=True) for name in staged[0].tables}
    result = compute(tables, "101").set_index(["area_code", "reference_date"])
    expected = {  # (area, date): (value, deviating schools, schools)
        ("101", date(2011, 11, 4)): (200 / 3, 2, 3),  # Søndermark and Blågård deviate; Åen is at 10.0
        ("101-03", date(2011, 11, 4)): (100.0, 1, 1),
        ("101-05", date(2011, 11, 4)): (50.0, 1, 2),
        ("101", date(2012, 11, 5)): (0.0, 0, 1),
        ("101-01", date(2012, 11, 5)): (0.0, 0, 1),
    }
    assert sorted(result.index) == sorted(expected)
    for key, (value, numerator, denominator) in expected.items():
        row = result.loc[key]
        assert row["value"] == pytest.approx(value)
        assert (row["numerator"], row["denominator"]) == (numerator, denominator)
        assert math.isnan(row["n"])
    assert set(result["indicator_code"]) == {"1.3"} and set(result["group_code"]) == {"all"}
    assert set(result["measure"]) == {"value"}


def test_demo_reproduces_published_figures(tmp_path: Path) -> None:
    demo.write(tmp_path)
    deliveries = find_deliveries(source.NAME, tmp_path / "school_enrolment", ignore=[])
    assert len(deliveries) == 4 and all(d.is_folder for d in deliveries)
    staged = [source.read(d, KEY, "101") for d in deliveries]
    for one in staged:
        validate(one)
    tables = {name: pd.concat([s.tables[name] for s in staged], ignore_index=True) for name in staged[0].tables}
    assert 20_000 <= len(tables["pupils"]) / 4 <= 30_000
    city = compute(tables, "101").query("area_code == '101'").set_index("reference_date")
    assert sorted(city.index) == [date(2010, 11, 5), date(2011, 11, 4), date(2012, 11, 5), date(2013, 11, 5)]
    assert abs(city.loc[date(2011, 11, 4), "value"] - 50) <= 0.5
    assert abs(city.loc[date(2012, 11, 5), "value"] - 49) <= 0.5
    assert city["value"].between(40, 60).all()
