"""survey: reading the contractor's CSV, its validation rules, indicators 6.1 and 8.1 against
hand-computed weighted means and intervals, and the demo's calibration to the published figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import barometer.demo.survey
import pandas as pd
import pytest
from barometer.sources import survey as source
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import find_deliveries
from barometer.sources.pseudonym import PseudonymKey
from barometer.transforms import survey as transform

HEADER = (
    "respondent_id;interviewdato;vaegt;gruppe;bydel;q_tillid_naboer;q_tillid_kommune;"
    "q_indflydelse;q_hoerer_til;q_diskrimination_omfang;q_diskrimineret_12m"
)
# Weights 1, 1, 2, 2, 3. Index scores: 0 | 0 (3 items answered) | 75 (reversed 2 -> 75) |
# 100 (3 answered) | none (2 answered). Discrimination: yes | no | no | don't know | no.
ROWS = [
    "501;2012-10-02;1,0;minoritet;Nørrebro;1;1;1;1;5;1",
    "502;2012-11-20;1;minoritet;NØRREBRO;1;9;;1;5;2",
    "503;2012-10-15;2,00;majoritet;Vesterbro/Kgs. Enghave;4;4;4;4;2;2",
    "504;2012-10-03;2,0;majoritet;;5;9;5;5;;9",
    "505;2012-11-01;3,0;majoritet;AMAGER VEST ;9;9;5;;1;2",
]
FILE = "survey/besvarelser.csv"


def deliver(folder: Path, rows: list[str] = ROWS, header: str = HEADER):
    """Writes one delivery in the contractor's format and returns it as found in the landing folder."""
    landing = folder / "survey"
    landing.mkdir(parents=True, exist_ok=True)
    (landing / "besvarelser.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    [delivery] = find_deliveries("survey", landing, ignore=[])
    return delivery


def staged(tmp_path: Path, rows: list[str] = ROWS):
    return source.read(deliver(tmp_path, rows), PseudonymKey("test-key"), "101")


def observations(tmp_path: Path, rows: list[str] = ROWS) -> pd.DataFrame:
    frame = transform.compute(staged(tmp_path, rows).tables, "101")
    return frame.set_index(["indicator_code", "group_code", "area_code"])


# --- reader ----------------------------------------------------------------------------------


def test_reader_types_the_delivery_and_takes_the_last_interview_date(tmp_path):
    delivery = staged(tmp_path)
    table = delivery.tables["survey"]
    assert delivery.reference_date == date(2012, 11, 20)
    assert (table["reference_date"] == date(2012, 11, 20)).all()
    assert table["_row"].tolist() == [2, 3, 4, 5, 6]
    assert table["weight"].tolist() == [1.0, 1.0, 2.0, 2.0, 3.0]
    assert table["origin_group"].tolist() == ["minority", "minority", "majority", "majority", "majority"]
    assert table["district"].tolist() == [3, 3, 4, pd.NA, 10]
    assert table["q_tillid_kommune"].tolist() == ["1", "9", "4", "9", "9"]
    assert table["q_indflydelse"].isna().tolist() == [False, True, False, False, False]


def test_reader_refuses_an_unreadable_interview_date_naming_its_row(tmp_path):
    rows = [*ROWS[:2], ROWS[2].replace("2012-10-15", "15.10.2012"), *ROWS[3:]]
    with pytest.raises(DeliveryError) as error:
        staged(tmp_path, rows)
    message = str(error.value)
    assert FILE in message and "interviewdato" in message and "interview date" in message
    assert error.value.rows == [4]


def test_reader_names_a_missing_column(tmp_path):
    header = HEADER.replace(";q_hoerer_til", "")
    rows = [";".join(r.split(";")[:8] + r.split(";")[9:]) for r in ROWS]
    with pytest.raises(DeliveryError, match="q_hoerer_til"):
        source.read(deliver(tmp_path, rows, header), PseudonymKey("test-key"), "101")


# --- validation ------------------------------------------------------------------------------


def test_a_good_delivery_passes(tmp_path):
    source.validate(staged(tmp_path))


@pytest.mark.parametrize(
    ("row", "cell", "bad", "rule", "column"),
    [
        (1, 2, "1.5", "weight (vaegt) is a number with a decimal comma", "vaegt"),
        (2, 2, "0,0", "weight (vaegt) is positive", "vaegt"),
        (3, 3, "andet", "group (gruppe) is minoritet or majoritet", "gruppe"),
        (1, 5, "6", "answer code is 1, 2, 3, 4, 5, 9 or empty", "q_tillid_naboer"),
        (4, 10, "3", "answer code is 1, 2, 9 or empty", "q_diskrimineret_12m"),
        (2, 4, "Frederiksberg", "district name is one of the ten official districts", "bydel"),
    ],
)
def test_a_broken_rule_names_file_rule_column_and_row(tmp_path, row, cell, bad, rule, column):
    rows = list(ROWS)
    cells = rows[row].split(";")
    cells[cell] = bad
    rows[row] = ";".join(cells)
    with pytest.raises(DeliveryError) as error:
        source.validate(staged(tmp_path, rows))
    message = str(error.value)
    assert FILE in message and rule in message and f"'{column}'" in message
    assert error.value.rows == [row + 2]


def test_a_repeated_respondent_is_named_by_rows_not_by_id(tmp_path):
    rows = [*ROWS[:4], ROWS[4].replace("505;", "503;", 1)]
    with pytest.raises(DeliveryError) as error:
        source.validate(staged(tmp_path, rows))
    message = str(error.value)
    assert "one row per respondent" in message and "'respondent_id'" in message
    assert error.value.rows == [4, 6]
    assert "503" not in message


# --- transform -------------------------------------------------------------------------------


def test_inclusion_index_is_the_weighted_mean_with_a_linearised_interval(tmp_path):
    # all: w = 1, 1, 2, 2 and y = 0, 0, 75, 100 -> mean 350/6; Σ w²(y - mean)² = 14861.1,
    # var = 4/3 · 14861.1 / 36 = 550.41, half width 1.96 · 23.461 = 45.98.
    obs = observations(tmp_path)
    everyone = obs.loc[("6.1", "all", "101")]
    assert everyone["value"] == pytest.approx(58.333333, abs=1e-5)
    assert everyone["ci_low"] == pytest.approx(12.350911, abs=1e-5)
    assert everyone["ci_high"] == pytest.approx(104.315756, abs=1e-5)
    assert everyone["n"] == 4
    assert pd.isna(everyone["numerator"]) and pd.isna(everyone["denominator"])
    majority = obs.loc[("6.1", "majority", "101")]  # w = 2, 2, y = 75, 100: var = 2 · 1250 / 16
    assert (majority["value"], majority["n"]) == (87.5, 2)
    assert majority["ci_low"] == pytest.approx(63.000450, abs=1e-5)
    assert majority["ci_high"] == pytest.approx(111.999550, abs=1e-5)
    minority = obs.loc[("6.1", "minority", "101")]
    assert (minority["value"], minority["ci_low"], minority["ci_high"], minority["n"]) == (0, 0, 0, 2)


def test_reversed_items_count_the_other_way_round(tmp_path):
    # 2, 3, 4, 5 -> 25, 50, 75, 100; the reversed item's 2 -> 75: mean 65.
    rows = ["701;2013-11-01;1,0;majoritet;Valby;2;3;4;5;2;2"]
    assert observations(tmp_path, rows).loc[("6.1", "all", "101"), "value"] == 65


def test_a_score_needs_three_answered_items_and_nine_is_not_an_answer(tmp_path):
    rows = [
        "801;2013-11-01;1,0;majoritet;Valby;9;9;;5;1;2",  # two answered: no score
        "802;2013-11-01;1,0;majoritet;Valby;9;9;5;5;1;2",
    ]  # three answered: 100
    everyone = observations(tmp_path, rows).loc[("6.1", "all", "101")]
    assert (everyone["value"], everyone["n"]) == (100, 1)
    assert pd.isna(everyone["ci_low"])  # one respondent has no variance estimate


def test_discrimination_is_the_weighted_share_of_yes_among_yes_and_no(tmp_path):
    # yes/no answerers w = 1, 1, 2, 3 with one yes (w 1): 1/7; the don't know (w 2) is left out.
    # var = 4/3 · (36 + 1 + 4 + 9)/49 / 49, half width 1.96 · 16.663 = 32.659 percentage points.
    obs = observations(tmp_path)
    everyone = obs.loc[("8.1", "all", "101")]
    assert everyone["value"] == pytest.approx(14.285714, abs=1e-5)
    assert everyone["ci_low"] == pytest.approx(-18.373549, abs=1e-5)
    assert everyone["ci_high"] == pytest.approx(46.944977, abs=1e-5)
    assert everyone["n"] == 4
    assert obs.loc[("8.1", "minority", "101"), "value"] == 50
    assert obs.loc[("8.1", "majority", "101"), "value"] == 0


def test_districts_get_their_own_cells_and_empty_districts_only_count_city_wide(tmp_path):
    obs = observations(tmp_path)
    index_cells = sorted((g, a) for i, g, a in obs.index if i == "6.1" and a != "101")
    assert index_cells == [("all", "101-03"), ("all", "101-04"), ("majority", "101-04"), ("minority", "101-03")]
    assert obs.loc[("6.1", "all", "101-04"), "value"] == 75  # respondent 504 has no district
    assert obs.loc[("8.1", "majority", "101-10"), "n"] == 1  # unscored 505 still answered 8.1


# --- demo ------------------------------------------------------------------------------------

PUBLISHED = [  # (indicator, group, reference year, month, published value)
    ("6.1", "minority", 2011, 2, 65),
    ("6.1", "majority", 2011, 2, 73),
    ("6.1", "minority", 2012, 11, 68),
    ("6.1", "majority", 2012, 11, 75),
    ("6.1", "all", 2012, 11, 74),
    ("8.1", "minority", 2012, 11, 25),
    ("8.1", "majority", 2012, 11, 8),
    ("8.1", "all", 2012, 11, 10),
]


def test_demo_reproduces_the_published_figures(tmp_path):
    barometer.demo.survey.write(tmp_path)
    deliveries = find_deliveries("survey", tmp_path / "survey", ignore=[])
    assert len(deliveries) == 4
    tables = []
    for delivery in deliveries:
        one = source.read(delivery, PseudonymKey("test-key"), "101")
        source.validate(one)
        tables.append(one.tables["survey"])
    obs = transform.compute({"survey": pd.concat(tables, ignore_index=True)}, "101")
    city = obs[(obs["area_code"] == "101") & (obs["measure"] == "value")]
    months = pd.to_datetime(city["reference_date"])
    for indicator, group, year, month, published in PUBLISHED:
        value = city.loc[
            (city["indicator_code"] == indicator)
            & (city["group_code"] == group)
            & (months.dt.year == year)
            & (months.dt.month == month),
            "value",
        ]
        assert len(value) == 1 and abs(value.iloc[0] - published) < 0.5, (indicator, group, year)
