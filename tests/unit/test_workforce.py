"""workforce: reading the HR extract (employee numbers pseudonymised at once), 3.1 and 3.2
worked out by hand, the delivery rules, and the demo reproducing the published figures."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from barometer.demo import workforce as demo
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import find_deliveries
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.staged import Delivery
from barometer.sources.workforce import NAME, read, validate
from barometer.transforms.workforce import compute

KEY = PseudonymKey("test-key")
HEADER = "medarbejder_nr;forvaltning;stillingsbetegnelse;leder;herkomst;opgoerelsesdato"
# Managers: 1 non-Western, 3 Danish, 2 unknown. All: 3 non-Western, 5 Danish, 2 Western, 2 unknown.
ROWS = [
    "104711;Børne- og Ungdomsforvaltningen;Skoleleder;J;ikke-vestlig;2012-10-01",
    "104712;Børne- og Ungdomsforvaltningen;Skoleleder;J;dansk;2012-10-01",
    "104713;Socialforvaltningen;Afdelingsleder;J;dansk;2012-10-01",
    "104714;Økonomiforvaltningen;Kontorchef;J;dansk;2012-10-01",
    "104715;Økonomiforvaltningen;Kontorchef;J;uoplyst;2012-10-01",
    "104716;Teknik- og Miljøforvaltningen;Centerchef;J;uoplyst;2012-10-01",
    "104717;Børne- og Ungdomsforvaltningen;Pædagog;N;ikke-vestlig;2012-10-01",
    "104718;Sundheds- og Omsorgsforvaltningen;Social- og sundhedshjælper;N;ikke-vestlig;2012-10-01",
    "104719;Sundheds- og Omsorgsforvaltningen;Sygeplejerske;N;dansk;2012-10-01",
    "104720;Børne- og Ungdomsforvaltningen;Lærer;N;dansk;2012-10-01",
    "104721;Kultur- og Fritidsforvaltningen;Bibliotekar;N;vestlig;2012-10-01",
    "104722;Socialforvaltningen;Socialrådgiver;N;vestlig;2012-10-01",
]
EMPLOYEE_NUMBERS = [row.split(";")[0] for row in ROWS]


def write_extract(folder: Path, rows: list[str] = ROWS) -> Delivery:
    folder.mkdir(exist_ok=True)
    (folder / "udtraek.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    [delivery] = find_deliveries(NAME, folder, ignore=[])
    return delivery


def employees(tmp_path: Path, rows: list[str] = ROWS) -> pd.DataFrame:
    return read(write_extract(tmp_path / "workforce", rows), KEY, "101").tables["employees"]


def labour_force(monkeypatch, shares: list[tuple[str, str, float, float]]) -> None:
    """Stands in for transforms.employment.labour_force_share: (quarter start, quarter end,
    non-Western labour force, all labour force) rows."""
    frame = pd.DataFrame(shares, columns=["quarter_start", "reference_date", "numerator", "denominator"])
    frame["value"] = 100 * frame["numerator"] / frame["denominator"]
    frame[["quarter_start", "reference_date"]] = frame[["quarter_start", "reference_date"]].apply(
        lambda column: pd.to_datetime(column).dt.date
    )
    import barometer.transforms.employment

    monkeypatch.setattr(barometer.transforms.employment, "labour_force_share", lambda tables, code=None: frame)


def test_reads_extract_and_replaces_employee_numbers_with_pseudonyms(tmp_path):
    staged = read(write_extract(tmp_path / "workforce"), KEY, "101")
    table = staged.tables["employees"]
    assert staged.reference_date == date(2012, 10, 1)
    assert "medarbejder_nr" not in table.columns
    # Booleans only: a failing assert must not print pseudonyms.
    leaked = bool(table["person_id"].isin(EMPLOYEE_NUMBERS).any())
    hashed = bool(table["person_id"].is_unique and table["person_id"].str.fullmatch("[0-9a-f]{64}").all())
    assert not leaked and hashed, "employee numbers are replaced by distinct pseudonyms"
    assert table["is_manager"].sum() == 6
    assert table["origin_group"].isna().sum() == 2  # uoplyst
    assert table["_row"].tolist() == list(range(2, 14))


def test_manager_share_leaves_unknown_origin_out_and_skips_3_1_without_labour_force(tmp_path):
    result = compute({"employees": employees(tmp_path)}, "101")
    assert result["indicator_code"].tolist() == ["3.2"]
    row = result.iloc[0]
    assert (row["measure"], row["group_code"], row["area_code"]) == ("value", "non_western", "101")
    assert row["reference_date"] == date(2012, 10, 1)
    assert (row["value"], row["numerator"], row["denominator"], row["n"]) == (25.0, 1, 4, 4)


def test_employee_share_against_the_labour_force_of_the_extracts_quarter(tmp_path, monkeypatch):
    labour_force(monkeypatch, [("2012-07-01", "2012-09-30", 50, 100), ("2012-10-01", "2012-12-31", 11, 100)])
    result = compute({"employees": employees(tmp_path), "employment": pd.DataFrame()}, "101")
    gap = result[result["indicator_code"] == "3.1"].set_index("measure")
    assert gap.loc["employee_share", ["value", "numerator", "denominator", "n"]].tolist() == [30.0, 3, 10, 10]
    assert gap.loc["labour_force_share", ["value", "numerator", "denominator"]].tolist() == [11.0, 11, 100]
    assert pd.isna(gap.loc["labour_force_share", "n"])
    assert gap.loc["value", "value"] == pytest.approx(19.0)
    assert gap.loc["value", "n"] == 10
    assert set(gap["reference_date"]) == {date(2012, 10, 1)} and set(gap["group_code"]) == {"non_western"}


def test_extract_without_its_quarters_labour_force_gets_no_3_1(tmp_path, monkeypatch):
    labour_force(monkeypatch, [("2012-07-01", "2012-09-30", 11, 100)])
    result = compute({"employees": employees(tmp_path), "employment": pd.DataFrame()}, "101")
    assert result["indicator_code"].tolist() == ["3.2"]


def changed(row: int, column: int, value: str) -> list[str]:
    rows = [line.split(";") for line in ROWS]
    rows[row][column] = value
    return [";".join(line) for line in rows]


@pytest.mark.parametrize(
    ("rows", "rule", "column", "rows_named"),
    [
        (changed(2, 3, "Ja"), "leder is J or N", "leder", [4]),
        (changed(7, 4, "ikke vestlig"), "herkomst is dansk", "herkomst", [9]),
        (changed(3, 0, "104711"), "one row per employee", "medarbejder_nr", [2, 5]),
    ],
)
def test_broken_rules_name_file_rule_column_and_rows_but_no_employee(tmp_path, rows, rule, column, rows_named):
    table_rows = employees(tmp_path, rows)
    with pytest.raises(DeliveryError) as raised:
        validate(read(write_extract(tmp_path / "workforce", rows), KEY, "101"))
    error = raised.value
    assert error.file == "workforce/udtraek.csv" and rule in error.rule
    assert error.column == column and error.rows == rows_named
    leaked = any(value in str(error) for value in [*EMPLOYEE_NUMBERS, *table_rows["person_id"]])
    assert not leaked, "the message names no employee number or pseudonym"


@pytest.mark.parametrize(
    ("rows", "rule", "column"),
    [
        (changed(5, 5, "2012-11-01"), "one reference date per delivery", "opgoerelsesdato"),
        (changed(5, 0, " "), "employee number is given", "medarbejder_nr"),
    ],
)
def test_extract_breaking_a_reading_rule_is_rejected(tmp_path, rows, rule, column):
    with pytest.raises(DeliveryError, match=rule) as raised:
        read(write_extract(tmp_path / "workforce", rows), KEY, "101")
    assert raised.value.column == column and raised.value.rows == [7]


def test_demo_reproduces_the_published_figures(tmp_path, monkeypatch):
    demo.write(tmp_path, seed=2013)
    staged = [read(delivery, KEY, "101") for delivery in find_deliveries(NAME, tmp_path / "workforce", ignore=[])]
    for delivery in staged:
        validate(delivery)
    labour_force(monkeypatch, [(f"{year}-10-01", f"{year}-12-31", 11_000, 100_000) for year in range(2010, 2014)])
    tables = {"employees": pd.concat([s.tables["employees"] for s in staged]), "employment": pd.DataFrame()}
    result = compute(tables, "101").set_index(["indicator_code", "measure", "reference_date"])["value"]
    assert result[("3.2", "value", date(2010, 10, 1))] == pytest.approx(1.5, abs=0.1)
    employee_share = result.xs(("3.1", "employee_share"))
    assert len(employee_share) == 4 and employee_share.between(11.0, 12.5).all()
    assert (result.xs(("3.1", "value")) > 0).all()
