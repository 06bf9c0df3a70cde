"""childcare: reading a delivery folder, its validation rules, indicators 4.1-4.3 and 1.4
against hand-computed values, and the demo's calibration to the published figures."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from barometer.sources.childcare import read, validate
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import find_deliveries
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.staged import Delivery
from barometer.transforms.childcare import compute

KEY = PseudonymKey("test-key")
REFERENCE = date(2012, 11, 1)
INSTITUTIONS = [
    ("1001", "Børnehuset Ærtebælgen", "Integreret", "Nørrebro"),
    ("1002", 'Vuggestuen "Myretuen"', "Vuggestue", "NØRREBRO "),
    ("1003", "Fritidshjemmet Spiren, afd. Øst", "Fritidshjem", "Vesterbro/Kgs. Enghave"),
    ("1004", "Klubben Åkanden", "Fritidsklub", "AMAGER VEST "),
]
CHILDREN = [  # cpr, foedselsdato, herkomst, bopaelsbydel, institution_id
    ("150308-4011", "2008-03-15", "Dansk oprindelse", "Nørrebro", "1001"),
    ("0111074012", "", "Efterkommer, ikke-vestlig", "Brønshøj-Husum", "1001"),  # 5 today, from the CPR
    ("2002105013", "2010-02-20", "Indvandrer, vestlig", "Nørrebro", "1002"),
    ("020106-4014", "2006-01-02", "Dansk oprindelse", "Vesterbro/Kgs. Enghave", "1003"),
    ("3112991015", "1999-12-31", "Efterkommer, ikke-vestlig", "AMAGER VEST ", "1004"),  # 7th digit 1: 1900s
    ("0111064016", "", "Dansk oprindelse", "Amager Vest", ""),
]
CPRS = [row[0] for row in CHILDREN]


def write_delivery(
    landing: Path, institutions=INSTITUTIONS, children=CHILDREN, dates: list[str] | None = None
) -> Delivery:
    """A delivery folder in the real format: two quoted, comma-separated UTF-8 files."""
    folder = landing / "childcare" / "udtraek_nov"
    folder.mkdir(parents=True)
    _write(folder / "institutioner_nov.csv", ["institution_id", "navn", "type", "bydel"], institutions)
    dates = dates or [REFERENCE.isoformat()] * len(children)
    _write(
        folder / "boern_nov.csv",
        ["cpr", "foedselsdato", "herkomst", "bopaelsbydel", "institution_id", "opgoerelsesdato"],
        [(*row, when) for row, when in zip(children, dates, strict=True)],
    )
    [delivery] = find_deliveries("childcare", folder.parent, ignore=[])
    return delivery


def _write(path: Path, header: list[str], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows(rows)


def test_read_pseudonymises_and_types_both_files(tmp_path):
    staged = read(write_delivery(tmp_path), KEY, "101")
    children, institutions = staged.tables["children"], staged.tables["institutions"]
    assert staged.reference_date == REFERENCE
    assert "cpr" not in children.columns and children["person_id"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert children["age"].tolist() == [4, 5, 2, 6, 12, 6]
    assert children["birth_date"].tolist()[1] == date(2007, 11, 1)
    assert children["district"].tolist() == [3, 7, 3, 4, 10, 10]
    assert children["origin_group"].tolist() == ["danish", "non_western", "western", "danish", "non_western", "danish"]
    assert children["institution_id"].isna().tolist() == [False] * 5 + [True]
    assert children["_row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert institutions["name"].tolist()[1:3] == ['Vuggestuen "Myretuen"', "Fritidshjemmet Spiren, afd. Øst"]
    assert institutions["district"].tolist() == [3, 3, 4, 10]
    assert (institutions["reference_date"] == REFERENCE).all()
    validate(staged)


def test_a_folder_without_a_childrens_file_is_refused(tmp_path):
    delivery = write_delivery(tmp_path)
    (delivery.path / "boern_nov.csv").rename(delivery.path / "born_nov.csv")
    rule = r"udtraek_nov: rule 'folder holds exactly one file matching 'boern\*\.csv''"
    with pytest.raises(DeliveryError, match=rule):
        read(delivery, KEY, "101")


def test_two_reference_dates_are_refused(tmp_path):
    dates = [REFERENCE.isoformat()] * 5 + ["2012-11-02"]
    with pytest.raises(DeliveryError) as error:
        read(write_delivery(tmp_path, dates=dates), KEY, "101")
    assert "boern_nov.csv" in str(error.value) and "'opgoerelsesdato'" in str(error.value)
    assert "at row 7" in str(error.value)


def replace(rows: list[tuple], index: int, column: int, value: str) -> list[tuple]:
    changed = list(rows)
    changed[index] = tuple(value if i == column else cell for i, cell in enumerate(rows[index]))
    return changed


BROKEN = {  # case -> (institutions, children, file, rule, column, rows)
    "unknown type": (
        replace(INSTITUTIONS, 2, 2, "Dagpleje"),
        CHILDREN,
        "institutioner_nov.csv",
        "type is one of the six kinds of institution",
        "type",
        "row 4",
    ),
    "institution twice": (
        INSTITUTIONS + [("1004", "Klubben Åkanden", "Fritidsklub", "Amager Vest")],
        CHILDREN,
        "institutioner_nov.csv",
        "one row per institution",
        "institution_id",
        "rows 5, 6",
    ),
    "unknown district": (
        replace(INSTITUTIONS, 0, 3, "Frederiksberg"),
        CHILDREN,
        "institutioner_nov.csv",
        "district name is one of the ten official districts",
        "bydel",
        "row 2",
    ),
    "unknown origin": (
        INSTITUTIONS,
        replace(CHILDREN, 2, 2, "Udlænding"),
        "boern_nov.csv",
        "origin (herkomst) is one of Statistics Denmark's five categories",
        "herkomst",
        "row 4",
    ),
    "child twice": (
        INSTITUTIONS,
        CHILDREN + [("1503084011", "", "Dansk oprindelse", "Nørrebro", "")],
        "boern_nov.csv",
        "one row per child",
        "cpr",
        "rows 2, 8",
    ),
    "too old": (
        INSTITUTIONS,
        CHILDREN + [("011098-2017", "1998-10-01", "Dansk oprindelse", "Valby", "")],
        "boern_nov.csv",
        "age on the reference date within the register's 0-13 band",
        "foedselsdato",
        "row 8",
    ),
    "unborn": (
        INSTITUTIONS,
        CHILDREN + [("050113-4018", "2013-01-05", "Dansk oprindelse", "Valby", "")],
        "boern_nov.csv",
        "date of birth is not after the reference date",
        "foedselsdato",
        "row 8",
    ),
    "institution not listed": (
        INSTITUTIONS,
        replace(CHILDREN, 5, 4, "9999"),
        "boern_nov.csv",
        "a child's institution is listed in the institutions file",
        "institution_id",
        "row 7",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_rules_name_file_rule_column_and_row_never_a_cpr(tmp_path, case):
    institutions, children, file, rule, column, rows = BROKEN[case]
    with pytest.raises(DeliveryError) as error:
        validate(read(write_delivery(tmp_path, institutions, children), KEY, "101"))
    message = str(error.value)
    assert f"childcare/udtraek_nov/{file}: rule '{rule}' broken in column '{column}' at {rows}" in message
    for cpr in CPRS + [c[0] for c in children]:
        assert cpr not in message and cpr.replace("-", "") not in message


def staged_tables(
    children: list[tuple], institutions: list[tuple], reference_date: date = REFERENCE
) -> dict[str, pd.DataFrame]:
    """Staged-shaped tables: children (age, origin_group, district, institution_id) and
    institutions (institution_id, type, district), all on `reference_date`."""
    kids = pd.DataFrame(children, columns=["age", "origin_group", "district", "institution_id"])
    kids = kids.assign(
        person_id=[f"p{i}" for i in range(len(kids))],
        reference_date=reference_date,
        district=kids["district"].astype("Int64"),
        age=kids["age"].astype("Int64"),
    )
    places = pd.DataFrame(institutions, columns=["institution_id", "type", "district"]).assign(
        reference_date=reference_date
    )
    return {"children": kids, "institutions": places}


SERVICES = [
    ("KB", "Børnehave", 3),
    ("KI", "Integreret", 3),
    ("KV", "Vuggestue", 8),
    ("F", "Fritidshjem", 3),
    ("KK", "KKFO", 3),
    ("C", "Fritidsklub", 3),
]


def value(observations: pd.DataFrame, indicator: str, group: str, area: str = "101") -> pd.Series:
    row = observations[
        (observations["indicator_code"] == indicator)
        & (observations["group_code"] == group)
        & (observations["area_code"] == area)
        & (observations["measure"] == "value")
    ]
    assert len(row) == 1
    return row.iloc[0]


def test_service_use_by_age_band_and_group_city_and_districts():
    tables = staged_tables(
        [
            (3, "western", 3, "KB"),
            (5, "non_western", 3, "KI"),
            (4, "non_western", 3, None),
            (4, "non_western", 8, "KV"),  # a nursery is not a kindergarten
            (3, "danish", 3, "KB"),
            (5, "danish", 8, "KI"),
            (2, "danish", 3, "KI"),  # too young for 4.1
            (6, "non_western", 3, "KB"),  # 6 and still in kindergarten: not in after-school care
            (9, "danish", 3, "F"),
            (7, "danish", 3, "KK"),
            (8, "western", 3, "KK"),
            (13, "non_western", 3, "C"),
            (10, "danish", 3, None),
            (12, "danish", 3, "F"),
        ],
        SERVICES,
    )
    observations = compute(tables, "101")
    minority = value(observations, "4.1", "minority")
    assert minority[["value", "numerator", "denominator", "n"]].tolist() == [50.0, 2, 4, 4]
    assert value(observations, "4.1", "danish")["value"] == 100.0
    assert value(observations, "4.1", "all")["value"] == pytest.approx(66.6667, abs=1e-4)
    assert value(observations, "4.1", "minority", "101-03")["value"] == pytest.approx(66.6667, abs=1e-4)
    assert value(observations, "4.1", "all", "101-08")[["value", "n"]].tolist() == [50.0, 2]
    assert value(observations, "4.2", "minority")["value"] == 50.0
    assert value(observations, "4.2", "all")[["value", "n"]].tolist() == [75.0, 4]
    assert value(observations, "4.3", "minority")["value"] == 100.0
    assert value(observations, "4.3", "danish")["value"] == 0.0
    assert value(observations, "4.3", "all")["value"] == pytest.approx(33.3333, abs=1e-4)


DAYCARE = [
    ("A", "Integreret", 3),
    ("B", "Børnehave", 3),
    ("D", "Integreret", 8),
    ("E", "Vuggestue", 1),
    ("Z", "Vuggestue", 3),
    ("C", "Fritidsklub", 3),
]
DAYCARE_CHILDREN = (
    # district 3's 0-5 year-olds: 3 of 10 non-Danish (30 %)
    [(4, "non_western", 3, "A"), (2, "western", 3, "A")]
    + [(3, "danish", 3, "A")] * 3  # A: 40 %, exactly 10 off
    + [(5, "danish", 3, "B")] * 4
    + [(6, "danish", 4, "B")]  # B: 0 % (a 6-year-old counts in B)
    + [(1, "non_western", 3, None)]
    # district 8's: 3 of 4 (75 %); D: 100 %
    + [(4, "non_western", 8, "D")] * 3
    + [(0, "danish", 8, None)]
    # E's district has no resident 0-5 year-olds: nothing to compare with
    + [(2, "danish", None, "E"), (11, "danish", 3, "C")]
)
FEBRUARY = date(2012, 2, 1)


def test_deviating_day_care_institutions():
    observations = compute(staged_tables(DAYCARE_CHILDREN, DAYCARE), "101")
    city = value(observations, "1.4", "all")
    assert city[["numerator", "denominator"]].tolist() == [2, 3]
    assert city["value"] == pytest.approx(66.6667, abs=1e-4) and np.isnan(city["n"])
    assert value(observations, "1.4", "all", "101-03")["value"] == 50.0
    assert value(observations, "1.4", "all", "101-08")["value"] == 100.0
    assert set(observations.loc[observations["indicator_code"] == "1.4", "group_code"]) == {"all"}


def test_deviation_is_measured_in_november_only():
    """The same children in February and November: 1.4 from November alone, 4.1-4.3 from both."""
    february, november = (staged_tables(DAYCARE_CHILDREN, DAYCARE, when) for when in (FEBRUARY, REFERENCE))
    tables = {name: pd.concat([february[name], november[name]], ignore_index=True) for name in november}
    observations = compute(tables, "101")
    deviation = observations[observations["indicator_code"] == "1.4"]
    assert set(deviation["reference_date"]) == {REFERENCE}
    assert value(deviation, "1.4", "all")[["numerator", "denominator"]].tolist() == [2, 3]
    kindergarten = observations[observations["indicator_code"] == "4.1"]
    assert set(kindergarten["reference_date"]) == {FEBRUARY, REFERENCE}


def test_a_february_delivery_gives_no_deviation_row():
    observations = compute(staged_tables(DAYCARE_CHILDREN, DAYCARE, FEBRUARY), "101")
    assert "1.4" not in set(observations["indicator_code"])
    assert set(observations["indicator_code"]) == {"4.1", "4.2", "4.3"}


PUBLISHED = {  # (indicator, year, month) -> minority, Danish, all
    ("4.1", 2011, 2): (82, 97, 94),
    ("4.1", 2011, 11): (84, 96, 94),
    ("4.1", 2012, 11): (86.1, 97.2, 95),
    ("4.2", 2011, 2): (57, 77, 71),
    ("4.2", 2011, 11): (56, 77, 71),
    ("4.2", 2012, 11): (59.2, 77.3, 72.8),
    ("4.3", 2011, 2): (36, 64, 56),
    ("4.3", 2011, 11): (36, 65, 56),
    ("4.3", 2012, 11): (39, 65.5, 57.4),
    ("1.4", 2011, 11): (39,),
    ("1.4", 2012, 11): (38,),
}


def test_demo_reproduces_the_published_figures(tmp_path):
    from barometer.demo.childcare import write

    write(tmp_path, seed=7)
    deliveries = find_deliveries("childcare", tmp_path / "childcare", ignore=[])
    assert len(deliveries) == 8
    staged = [read(delivery, KEY, "101") for delivery in deliveries]
    for delivery in staged:
        validate(delivery)
    tables = {
        name: pd.concat([s.tables[name] for s in staged], ignore_index=True) for name in ["institutions", "children"]
    }
    observations = compute(tables, "101")
    city = observations[(observations["area_code"] == "101") & (observations["measure"] == "value")]
    when = pd.to_datetime(city["reference_date"])
    for (indicator, year, month), published in PUBLISHED.items():
        groups = ["minority", "danish", "all"] if len(published) == 3 else ["all"]
        for group, figure in zip(groups, published, strict=True):
            row = city[
                (city["indicator_code"] == indicator)
                & (city["group_code"] == group)
                & (when.dt.year == year)
                & (when.dt.month == month)
            ]
            assert len(row) == 1 and abs(row["value"].iloc[0] - figure) <= 0.5, (indicator, year, month, group)
    assert set(when[city["indicator_code"] == "1.4"].dt.month) == {11}, "1.4 is a November figure"
    districts = observations[observations["area_code"] != "101"]
    assert (districts["n"] < 5).any(), "some district cell is small enough to be suppressed"


def test_once_validated_only_the_columns_the_transforms_read_are_held(tmp_path):
    """Pseudonyms, birth dates and spellings are released after validation (they are most of a
    national refresh's memory); the indicators are those of the whole tables."""
    from barometer.flows.context import RunContext
    from barometer.flows.ingest import read_and_validate

    delivery = write_delivery(tmp_path)
    held = read_and_validate(delivery, KEY, "101", RunContext())
    children = held.tables["children"]
    assert sorted(children.columns) == sorted(["reference_date", "age", "origin_group", "district", "institution_id"])
    assert held.rows == len(CHILDREN) + len(INSTITUTIONS)
    assert "name" in held.tables["institutions"].columns, "tables not listed in computed_from stay whole"
    whole = read(delivery, KEY, "101")
    pd.testing.assert_frame_equal(compute(held.tables, "101"), compute(whole.tables, "101"))


def test_a_broken_rule_on_a_released_column_still_rejects_the_delivery(tmp_path):
    from barometer.flows.context import RunContext
    from barometer.flows.ingest import read_and_validate

    twice = CHILDREN + [CHILDREN[0]]  # one child twice: person_id is checked before it is released
    with pytest.raises(DeliveryError, match="one row per child"):
        read_and_validate(write_delivery(tmp_path, children=twice), KEY, "101", RunContext())
