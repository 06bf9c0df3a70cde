"""safety: reading the centre's workbook layout, the need-level counts 5.1/5.2 worked out by
hand, the delivery rules, and the demo workbooks reproducing the status report's figures."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from barometer.demo import safety as demo
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import find_deliveries
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.safety import NAME, SPEC, read, validate
from barometer.sources.staged import Delivery
from barometer.transforms.safety import compute, need_level
from openpyxl import Workbook

HEADERS = SPEC.table("safety_areas").headers
KEY = PseudonymKey("test-key")
TITLE = ["Tryghedsindeks 2012", "Indeks: byens gennemsnit = 100", None]
AREAS = [
    [1, "Indre By sydvest", "Indre By", 2012, 162.4, 140.2, 24.0],
    [2, "Vesterbro omkring Hovedbanegården", "Vesterbro/Kgs. Enghave", 2012, "150,0", "131,5", "22,1"],
    [3, "Sundby nord", "AMAGER VEST ", 2012, "149,9", "120,0", "15,0"],
    [4, "Tingbjerg", "Brønshøj-Husum", 2012, 125, 99.1, 18.3],
    [5, "Nordhavn", "Østerbro", 2012, 48.6, 30.2, 4.1],
]


def write_workbook(
    folder: Path,
    areas: list[list],
    sheet: str = "Tryghedsindeks",
    header: list[str] = HEADERS,
    name: str = "indeks.xlsx",
) -> Delivery:
    folder.mkdir(exist_ok=True)
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    for row in [*([line] for line in TITLE), header, *areas, [None], ["Kilde: Center for Kriminalforebyggelse"]]:
        worksheet.append(row)
    workbook.save(folder / name)
    [delivery] = find_deliveries(NAME, folder, ignore=[])
    return delivery


def staged_table(tmp_path: Path, areas: list[list] = AREAS):
    return read(write_workbook(tmp_path / "safety", areas), KEY, "101")


def areas_frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """(reference date, area id, index) rows as a staged table."""
    frame = pd.DataFrame(rows, columns=["reference_date", "area_id", "index"])
    frame["reference_date"] = pd.to_datetime(frame["reference_date"]).dt.date
    return frame


def test_reads_table_under_title_rows_with_numbers_as_text_and_mixed_district_spellings(tmp_path):
    staged = staged_table(tmp_path)
    table = staged.tables["safety_areas"]
    assert staged.reference_date == date(2012, 12, 31)
    assert table["_row"].tolist() == [5, 6, 7, 8, 9]  # title (3 rows) and header above
    assert table["area_id"].tolist() == ["1", "2", "3", "4", "5"]
    assert table["index"].tolist() == [162.4, 150.0, 149.9, 125.0, 48.6]
    assert table["insecure_percent"].tolist() == [24.0, 22.1, 15.0, 18.3, 4.1]
    assert table["district"].tolist() == [1, 4, 10, 7, 2]
    assert set(table["reference_date"]) == {date(2012, 12, 31)}


def test_need_levels_take_the_first_threshold_reached():
    scores = pd.Series([150.0, 149.9, 125.0, 124.9, 75.0, 74.9, 50.0, 49.9, 0.0])
    levels = [
        {"level": "A", "min_index": 150},
        {"level": "B", "min_index": 125},
        {"level": "C", "min_index": 75},
        {"level": "D", "min_index": 50},
        {"level": "E", "min_index": None},
    ]
    assert need_level(scores, levels).tolist() == ["A", "B", "B", "C", "C", "D", "D", "E", "E"]


def test_counts_marked_and_intensified_areas_per_year():
    areas = areas_frame(
        [
            ("2012-12-31", "1", 162.4),
            ("2012-12-31", "2", 150.0),
            ("2012-12-31", "3", 149.9),
            ("2012-12-31", "4", 125.0),
            ("2012-12-31", "5", 48.6),
            ("2013-12-31", "1", 151.0),
            ("2013-12-31", "2", 100.0),
            ("2013-12-31", "3", 80.2),
        ]
    )
    result = compute({"safety_areas": areas}, "101").set_index(["indicator_code", "reference_date"])
    assert result.loc[("5.1", date(2012, 12, 31)), ["value", "numerator", "denominator"]].tolist() == [2, 2, 5]
    assert result.loc[("5.2", date(2012, 12, 31)), ["value", "numerator", "denominator"]].tolist() == [4, 4, 5]
    assert result.loc[("5.1", date(2013, 12, 31)), "value"] == 1
    assert result.loc[("5.2", date(2013, 12, 31)), "value"] == 1
    assert set(result["area_code"]) == {"101"} and set(result["group_code"]) == {"all"}
    assert result["n"].isna().all()


def broken(areas: list[list], row: int, column: int, value) -> list[list]:
    changed = [list(area) for area in areas]
    changed[row][column] = value
    return changed


@pytest.mark.parametrize(
    ("areas", "rule", "column", "rows"),
    [
        (broken(AREAS, 1, 0, 1), "Område-ID unique", "Område-ID", [5, 6]),
        (broken(AREAS, 2, 4, "-3,5"), "Indeks is not negative", "Indeks", [7]),
        (broken(AREAS, 2, 4, "ca. 140"), "Indeks is a number", "Indeks", [7]),
        (broken(AREAS, 3, 2, "Frederiksberg"), "ten official districts", "Bydel", [8]),
    ],
)
def test_broken_rules_name_file_rule_column_and_rows(tmp_path, areas, rule, column, rows):
    with pytest.raises(DeliveryError) as raised:
        validate(staged_table(tmp_path, areas))
    error = raised.value
    assert error.file == "safety/indeks.xlsx" and rule in error.rule
    assert error.column == column and error.rows == rows


def test_two_years_in_one_workbook_are_rejected_while_reading(tmp_path):
    with pytest.raises(DeliveryError, match="one reference date per delivery") as raised:
        staged_table(tmp_path, broken(AREAS, 4, 3, 2013))
    assert raised.value.column == "År" and raised.value.rows == [9]


@pytest.mark.parametrize(
    ("sheet", "header", "rule"),
    [
        ("Ark1", HEADERS, "sheet named 'Tryghedsindeks'"),
        ("Tryghedsindeks", ["Områdenr", *HEADERS[1:]], "a row starting with 'Område-ID'"),
    ],
)
def test_wrong_sheet_or_header_is_rejected(tmp_path, sheet, header, rule):
    with pytest.raises(DeliveryError, match=rule):
        read(write_workbook(tmp_path / "safety", AREAS, sheet=sheet, header=header), KEY, "101")


def test_demo_reproduces_the_published_counts(tmp_path):
    demo.write(tmp_path, seed=2013)
    staged = [read(delivery, KEY, "101") for delivery in find_deliveries(NAME, tmp_path / "safety", ignore=[])]
    for delivery in staged:
        validate(delivery)
    areas = pd.concat([delivery.tables["safety_areas"] for delivery in staged], ignore_index=True)
    result = compute({"safety_areas": areas}, "101").set_index(["indicator_code", "reference_date"])["value"]
    assert result[("5.2", date(2010, 12, 31))] == 12
    assert result[("5.2", date(2012, 12, 31))] == 7
    assert result[("5.1", date(2012, 12, 31))] == 5
    assert result[("5.1", date(2013, 12, 31))] == 3
    marked_2013 = areas[(areas["year"] == 2013) & (areas["index"] >= 150)]
    assert sorted(marked_2013["district"]) == [1, 3, 4]
    assert areas.groupby("year").size().to_dict() == {2009: 35, 2010: 30, 2011: 25, 2012: 20, 2013: 16}
