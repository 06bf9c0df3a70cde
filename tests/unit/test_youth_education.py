"""youth_education (indicator 1.2): the register's .xlsx read, validated and turned into shares,
against small workbooks written here and figures worked out by hand; and the demo against the
published table."""

import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from barometer.demo.youth_education import write
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import find_deliveries
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.staged import Delivery
from barometer.sources.youth_education import read, validate
from barometer.transforms.youth_education import compute
from openpyxl import Workbook, load_workbook

KEY = PseudonymKey("test-key")
HEADER = ["CPR", "Fødselsdato", "Herkomst", "Bydel", "Status", "Opgørelsesdato"]
OCTOBER_2012 = date(2012, 10, 1)
FILE = "youth_education/Status pr 1 okt.xlsx"
DANISH, NON_WESTERN_IMMIGRANT, NON_WESTERN_DESCENDANT, WESTERN_IMMIGRANT = (
    "Dansk oprindelse",
    "Indvandrer, ikke-vestlig",
    "Efterkommer, ikke-vestlig",
    "Indvandrer, vestlig",
)
COMPLETED, ENROLLED, NOT_ENROLLED = "Gennemført ungdomsuddannelse", "I gang med ungdomsuddannelse", "Ikke i gang"


def person(
    born: date | None,
    serial: str = "1234",
    origin: str = DANISH,
    district: str | None = "Østerbro",
    status: str = COMPLETED,
    cpr: str | None = None,
) -> list:
    """A register row on 1 October 2012; the CPR number agrees with the birth date unless given."""
    return [cpr or f"{born:%d%m%y}-{serial}", born, origin, district, status, OCTOBER_2012]


def deliver(folder: Path, rows: list[list], sheet: str = "Status") -> Delivery:
    """The rows as the register's workbook, the only delivery in a landing folder."""
    landing = folder / "youth_education"
    landing.mkdir()
    workbook = Workbook()
    workbook.active.title = sheet
    workbook.active.append(HEADER)
    for row in rows:
        workbook.active.append(row)
    workbook.save(landing / FILE.split("/")[1])
    [delivery] = find_deliveries("youth_education", landing, ignore=[])
    return delivery


def staged_table(folder: Path, rows: list[list]) -> pd.DataFrame:
    return read(deliver(folder, rows), KEY, "101").tables["youth_education"]


def cells(observations: pd.DataFrame, keys: tuple[str, str] = ("group_code", "area_code")) -> dict:
    """keys -> (completed or enrolled, completed, enrolled, n), shares to one decimal."""
    wide = observations.pivot_table(index=list(keys), columns="measure", values=["value", "n"])
    return {
        key: (
            round(row[("value", "value")], 1),
            round(row[("value", "completed")], 1),
            round(row[("value", "enrolled")], 1),
            row[("n", "value")],
        )
        for key, row in wide.iterrows()
    }


# Reading ---------------------------------------------------------------------------------------


def test_reads_the_status_sheet_into_typed_pseudonymised_rows(tmp_path):
    staged = read(
        deliver(
            tmp_path,
            [
                person(date(1995, 5, 15), "1231", DANISH, "Vesterbro/Kgs. Enghave", COMPLETED),
                person(date(1994, 3, 20), "2232", NON_WESTERN_DESCENDANT, "AMAGER VEST ", ENROLLED, cpr="2003942232"),
                person(None, "4233", WESTERN_IMMIGRANT, None, NOT_ENROLLED, cpr="010796-4233"),  # born from CPR
            ],
        ),
        KEY,
        "101",
    )
    table = staged.tables["youth_education"]
    assert staged.reference_date == OCTOBER_2012
    assert staged.delivery.name == FILE
    assert staged.key_version == KEY.version
    assert "CPR" not in table.columns
    assert table["_row"].tolist() == [2, 3, 4]
    assert table["birth_date"].tolist() == [date(1995, 5, 15), date(1994, 3, 20), date(1996, 7, 1)]
    assert table["age"].tolist() == [17, 18, 16]
    assert table["origin_group"].tolist() == ["danish", "non_western", "western"]
    assert table["district"].tolist() == [4, 10, pd.NA]
    assert table["status"].tolist() == [COMPLETED, ENROLLED, NOT_ENROLLED]
    assert (table["reference_date"] == OCTOBER_2012).all()
    assert table["person_id"].nunique() == 3
    delivered = ["150595-1231", "1505951231", "2003942232", "010796-4233", "0107964233"]
    assert not table.astype(str).isin(delivered).any().any()


def test_a_workbook_without_the_status_sheet_is_refused(tmp_path):
    with pytest.raises(DeliveryError, match=f"^{re.escape(FILE)}: rule 'workbook has a sheet named 'Status''"):
        read(deliver(tmp_path, [person(date(1995, 5, 15))], sheet="Ark1"), KEY, "101")


# Transform -------------------------------------------------------------------------------------


def test_age_is_taken_on_the_reference_date_and_birthdays_on_it_count(tmp_path):
    table = staged_table(
        tmp_path,
        [
            person(date(1997, 10, 1), status=ENROLLED),  # 15th birthday on the reference date: in
            person(date(1997, 10, 2), status=ENROLLED),  # 15 tomorrow: out
            person(date(1992, 10, 1), status=COMPLETED),  # 20th birthday on the reference date: out
            person(date(1992, 10, 2), status=NOT_ENROLLED),  # 19, 20 tomorrow: in
        ],
    )
    assert table["age"].tolist() == [15, 14, 20, 19]
    observations = compute({"youth_education": table}, "101")
    assert cells(observations)[("danish", "101")] == (50.0, 0.0, 50.0, 2)


def test_shares_for_the_city_and_its_districts(tmp_path):
    table = staged_table(
        tmp_path,
        [
            person(date(1995, 1, 1), "1001", DANISH, "Østerbro", COMPLETED),
            person(date(1995, 1, 2), "1002", DANISH, "ØSTERBRO", COMPLETED),
            person(date(1995, 1, 3), "1003", DANISH, "Østerbro ", ENROLLED),
            person(date(1995, 1, 4), "1004", DANISH, "Nørrebro", NOT_ENROLLED),
            person(date(1996, 1, 1), "2001", NON_WESTERN_IMMIGRANT, "Nørrebro", ENROLLED),
            person(date(1996, 1, 2), "2002", NON_WESTERN_DESCENDANT, "NØRREBRO", NOT_ENROLLED),
            person(date(1996, 1, 3), "2003", NON_WESTERN_DESCENDANT, None, COMPLETED),  # no district: city only
            person(date(1996, 1, 4), "3001", WESTERN_IMMIGRANT, "Nørrebro", COMPLETED),  # neither group
            person(date(1990, 1, 5), "2004", NON_WESTERN_IMMIGRANT, "Nørrebro", COMPLETED),  # 22: too old
        ],
    )
    observations = compute({"youth_education": table}, "101")
    assert cells(observations) == {
        ("danish", "101"): (75.0, 50.0, 25.0, 4),  # 3 of 4 completed or enrolled
        ("danish", "101-02"): (100.0, 66.7, 33.3, 3),
        ("danish", "101-03"): (0.0, 0.0, 0.0, 1),
        ("non_western", "101"): (66.7, 33.3, 33.3, 3),
        ("non_western", "101-03"): (50.0, 0.0, 50.0, 2),
    }
    assert set(observations["indicator_code"]) == {"1.2"}
    assert set(observations["reference_date"]) == {OCTOBER_2012}
    city = observations[(observations["area_code"] == "101") & (observations["group_code"] == "danish")]
    assert city.set_index("measure")[["numerator", "denominator"]].to_dict("index") == {
        "value": {"numerator": 3.0, "denominator": 4.0},
        "completed": {"numerator": 2.0, "denominator": 4.0},
        "enrolled": {"numerator": 1.0, "denominator": 4.0},
    }


# Validation ------------------------------------------------------------------------------------


def broken_rule(folder: Path, rows: list[list]) -> DeliveryError:
    staged = read(deliver(folder, rows), KEY, "101")
    with pytest.raises(DeliveryError) as caught:
        validate(staged)
    message = str(caught.value)
    assert message.startswith(f"{FILE}: rule '{caught.value.rule}' broken in column '{caught.value.column}'")
    assert not re.search(r"\d{6}", message), "no CPR number in the message"
    assert not any(pseudonym in message for pseudonym in staged.tables["youth_education"]["person_id"])
    return caught.value


def test_a_clean_delivery_passes(tmp_path):
    validate(read(deliver(tmp_path, [person(date(1995, 5, 15)), person(date(1988, 2, 29))]), KEY, "101"))


def test_unknown_district_is_named_with_its_row(tmp_path):
    error = broken_rule(
        tmp_path, [person(date(1995, 5, 15), "1001"), person(date(1995, 5, 16), "1002", district="Frederiksberg")]
    )
    assert (error.column, error.rows) == ("Bydel", [3])
    assert error.rule == "district name is one of the ten official districts"
    assert "'Frederiksberg'" in str(error)


def test_unknown_status_is_named_by_column_and_row(tmp_path):
    error = broken_rule(
        tmp_path,
        [
            person(date(1995, 5, 15), "1001"),
            person(date(1995, 5, 16), "1002"),
            person(date(1995, 5, 17), "1003", status="Afbrudt"),
        ],
    )
    assert (error.rule, error.column, error.rows) == ("status is completed, enrolled or not enrolled", "Status", [4])


def test_empty_status_is_not_counted_as_not_enrolled(tmp_path):
    error = broken_rule(tmp_path, [person(date(1995, 5, 15), "1001"), person(date(1995, 5, 16), "1002", status=None)])
    assert (error.rule, error.column, error.rows) == ("status is given", "Status", [3])


def test_the_same_person_with_and_without_hyphen_is_a_duplicate(tmp_path):
    error = broken_rule(
        tmp_path,
        [
            person(date(1995, 5, 15), cpr="150595-1231"),
            person(date(1996, 1, 1), "1001"),
            person(date(1995, 5, 15), cpr="1505951231", status=ENROLLED),
        ],
    )
    assert (error.rule, error.column, error.rows) == ("one row per person", "CPR", [2, 4])


def test_an_unreadable_birth_date_is_an_error_not_a_fallback_to_the_cpr_number(tmp_path):
    error = broken_rule(
        tmp_path,
        [person(date(1995, 5, 15), "1001"), ["150595-1002", "15.05.95", DANISH, "Valby", COMPLETED, OCTOBER_2012]],
    )
    assert (error.column, error.rows) == ("Fødselsdato", [3])
    assert error.rule.startswith("date of birth is a date")


def test_ages_outside_the_register_band_are_an_error(tmp_path):
    error = broken_rule(tmp_path, [person(date(1995, 5, 15), "1001"), person(date(1980, 5, 15), "1002")])
    assert (error.column, error.rows) == ("Fødselsdato", [3])
    assert "14-25" in error.rule


def test_a_malformed_cpr_number_is_refused_on_reading_by_row(tmp_path):
    with pytest.raises(DeliveryError) as caught:
        read(deliver(tmp_path, [person(date(1995, 5, 15)), person(date(1995, 2, 28), cpr="300295-1234")]), KEY, "101")
    assert (caught.value.file, caught.value.column, caught.value.rows) == (FILE, "CPR", [3])
    assert "300295" not in str(caught.value)


# Demo ------------------------------------------------------------------------------------------

# indicators.md, 1.2: (completed or enrolled, completed, enrolled, n) for Danish and non-Western.
PUBLISHED = {
    (date(2010, 10, 1), "danish"): (84.8, 18.9, 65.9, 11610),
    (date(2010, 10, 1), "non_western"): (83.3, 13.0, 70.3, 3679),
    (date(2011, 10, 1), "danish"): (83.7, 18.9, 64.8, 11978),
    (date(2011, 10, 1), "non_western"): (79.6, 14.3, 65.3, 3820),
    (date(2012, 10, 1), "danish"): (83.3, 18.8, 64.5, 12329),
    (date(2012, 10, 1), "non_western"): (77.2, 14.3, 62.9, 3962),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[list[Delivery], pd.DataFrame, pd.DataFrame]:
    """The demo's deliveries; the published years' (the oldest three) read and validated as the
    pipeline would, their persons and 1.2. Reading is most of this module's run time."""
    folder = tmp_path_factory.mktemp("landing")
    write(folder)
    deliveries = find_deliveries("youth_education", folder / "youth_education", ignore=[])
    staged = [read(delivery, KEY, "101") for delivery in deliveries[:3]]
    for delivery in staged:
        validate(delivery)
    persons = pd.concat([s.tables["youth_education"] for s in staged], ignore_index=True)
    return deliveries, persons, compute({"youth_education": persons}, "101")


def test_demo_reproduces_the_published_table(demo):
    _, _, observations = demo
    city = cells(observations[observations["area_code"] == "101"], keys=("reference_date", "group_code"))
    assert city == PUBLISHED


def test_demo_has_a_small_district_cell_for_disclosure_control(demo):
    _, _, observations = demo
    districts = observations[(observations["area_code"] != "101") & (observations["measure"] == "value")]
    small = districts[districts["n"] < 5]
    assert set(zip(small["group_code"], small["reference_date"], strict=True)) == {("non_western", date(2011, 10, 1))}


def test_demo_register_holds_what_1_2_must_leave_out(demo):
    _, persons, _ = demo
    assert set(persons["age"]) == set(range(14, 26))
    assert set(persons["origin"]) == {
        DANISH,
        NON_WESTERN_IMMIGRANT,
        NON_WESTERN_DESCENDANT,
        WESTERN_IMMIGRANT,
        "Efterkommer, vestlig",
    }
    assert persons["district"].isna().any() and set(persons["district"].dropna()) == set(range(1, 11))
    assert persons.groupby("reference_date")["person_id"].apply(lambda ids: ids.is_unique).all()


def test_demo_delivers_one_workbook_a_year_in_the_register_format(demo):
    deliveries, _, _ = demo
    assert len(deliveries) == 4
    workbook = load_workbook(deliveries[-1].path, read_only=True)
    assert workbook.sheetnames == ["Status"]
    header, *rows = workbook["Status"].iter_rows(max_row=501, values_only=True)
    workbook.close()
    assert list(header) == HEADER
    cpr, born, _, district, _, reference = (list(column) for column in zip(*rows, strict=True))
    assert all(isinstance(cell, datetime) for cell in born)  # Excel dates
    assert set(reference) == {datetime(2013, 10, 1)}
    assert any(re.fullmatch(r"\d{6}-\d{4}", number) for number in cpr)
    assert any(re.fullmatch(r"\d{10}", number) for number in cpr)
    assert {"Vesterbro/Kgs. Enghave", "AMAGER VEST ", "Brønshøj-Husum", "ØSTERBRO", None} <= set(district)
