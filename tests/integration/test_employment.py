"""employment: BULK parsing, the validation suite, indicator 2.1 and the labour-force share
against hand-computed tables, and the calibrated demo against the published figures."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from barometer.demo.employment import write_statbank
from barometer.demo.statbank_server import serve
from barometer.sources.employment import fetch, stage_bulk, table_config, validate
from barometer.sources.errors import DeliveryError
from barometer.sources.staged import Delivery, StagedDelivery
from barometer.sources.statbank import StatBankClient, StatBankError
from barometer.transforms.employment import compute, labour_force_share

KAS201, RAS201 = table_config("KAS201"), table_config("RAS201")
AGES = KAS201["ages"]
HEADER = "OMRÅDE;SOCIO;HERKOMST;ALDER;KØN;PERIODE;TID;INDHOLD\n"
STATUS = {"00": "employed", "50": "unemployed"}  # KAS201's codes


def stage(raw: bytes, until: date, lang: str = "da") -> pd.DataFrame:
    cells = stage_bulk(raw, KAS201, STATUS, lang)
    return cells[cells["reference_date"] <= until].reset_index(drop=True)


def test_bulk_text_is_staged_with_decimal_commas_and_missing_cells():
    raw = (
        HEADER + "101;00;TOT;16-19;TOT;K1;2012;1234,5\n"
        "101;50;25;16-19;TOT;K3;2012;..\n"
        "101;50;35;16-19;TOT;K3;2012;\n"
        "101;00;TOT;16-19;TOT;K4;2012;7\n"
    ).encode()
    cells = stage(raw, date(2012, 11, 30))
    assert cells["_row"].tolist() == [2, 3, 4]
    assert cells["period"].tolist() == ["2012K1", "2012K3", "2012K3"]
    assert cells["reference_date"].tolist() == [date(2012, 3, 31), date(2012, 9, 30), date(2012, 9, 30)]
    assert cells["count"].iloc[0] == 1234.5 and cells["count"].iloc[1:].isna().all()
    codes = cells[["table", "area_code", "status", "origin", "age", "sex"]].iloc[1].tolist()
    assert codes == ["KAS201", "101", "unemployed", "25", "16-19", "TOT"]


def test_an_annual_table_is_dated_30_november_of_its_year():
    raw = "OMRÅDE;SOCIO;HERKOMST;ALDER;KØN;TID;INDHOLD\n101;0;999;16-19;M;2015;310\n000;5;35;60-64;K;2016;2\n"
    cells = stage_bulk(raw.encode(), RAS201, {"0": "employed", "5": "unemployed"})
    assert cells[["table", "area_code", "status", "origin", "sex", "period"]].values.tolist() == [
        ["RAS201", "101", "employed", "999", "M", "2015"],
        ["RAS201", "000", "unemployed", "35", "K", "2016"],
    ]
    assert cells["reference_date"].tolist() == [date(2015, 11, 30), date(2016, 11, 30)]


def test_bulk_text_in_english_has_decimal_points():
    cells = stage((HEADER + "101;00;TOT;16-19;TOT;K2;2012;1234.5\n").encode(), date(2012, 12, 31), lang="en")
    assert cells["count"].tolist() == [1234.5]
    assert cells["reference_date"].tolist() == [date(2012, 6, 30)]


def test_an_unreadable_count_names_its_line():
    raw = (HEADER + "101;00;TOT;16-19;TOT;K1;2012;1\n101;00;TOT;20-24;TOT;K1;2012;mange\n").encode()
    with pytest.raises(StatBankError) as error:
        stage(raw, date(2012, 12, 31))
    assert error.value.column == "INDHOLD" and error.value.rows == [3]


def kas201(
    quarter: str, reference_date: date, per_band: dict[tuple[str, str], float], area_code: str = "101"
) -> pd.DataFrame:
    """Staged KAS201 cells of one quarter: (status, origin) -> the same count in each band."""
    return cells("KAS201", quarter, reference_date, per_band, ["TOT"], area_code)


def cells(
    table: str,
    period: str,
    reference_date: date,
    per_band: dict[tuple[str, str], float],
    sexes: list[str],
    area_code: str = "101",
) -> pd.DataFrame:
    """Staged cells of one period: (status code, origin) -> the same count in each band and sex."""
    return pd.DataFrame(
        [
            {
                "table": table,
                "area_code": area_code,
                "status": STATUS[status],
                "origin": origin,
                "age": age,
                "sex": sex,
                "period": period,
                "reference_date": reference_date,
                "count": count,
            }
            for (status, origin), count in per_band.items()
            for age in AGES
            for sex in sexes
        ]
    )


# Per band, so the ten bands give: Q3 all 900 employed + 100 unemployed (10 %), non-Western
# (25: 60 + 20, 35: 100 + 20) 160 + 40 (20 %); Q1 all 950 + 50 (5 %), non-Western 80 + 20 (20 %).
Q3 = {("00", "TOT"): 90, ("50", "TOT"): 10, ("00", "25"): 6, ("50", "25"): 2, ("00", "35"): 10, ("50", "35"): 2}
Q1 = {("00", "TOT"): 95, ("50", "TOT"): 5, ("00", "25"): 4, ("50", "25"): 1, ("00", "35"): 4, ("50", "35"): 1}


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    with_a_missing_cell = kas201("2012K4", date(2012, 12, 31), Q3)
    with_a_missing_cell.loc[3, "count"] = float("nan")
    return {
        "employment": pd.concat(
            [
                kas201("2012K1", date(2012, 3, 31), Q1),
                kas201("2012K2", date(2012, 6, 30), Q3),
                kas201("2012K3", date(2012, 9, 30), Q3),
                with_a_missing_cell,
                kas201("2012K3", date(2012, 9, 30), Q1, area_code="147"),
            ],
            ignore_index=True,
        )
    }


def test_excess_unemployment_per_half_year(tables):
    observations = compute(tables, "101").set_index(["reference_date", "measure", "group_code"])
    assert observations.index.get_level_values("reference_date").unique().tolist() == [
        date(2012, 3, 31),
        date(2012, 9, 30),
    ]
    assert set(observations["area_code"]) == {"101"} and set(observations["indicator_code"]) == {"2.1"}
    expected = {
        # (date, measure, group): value, numerator, denominator, n
        (date(2012, 3, 31), "value", "non_western"): (15.0, None, None, 100),
        (date(2012, 3, 31), "unemployment_rate", "non_western"): (20.0, 20, 100, 100),
        (date(2012, 3, 31), "unemployment_rate", "all"): (5.0, 50, 1000, 1000),
        (date(2012, 9, 30), "value", "non_western"): (10.0, None, None, 200),
        (date(2012, 9, 30), "unemployment_rate", "non_western"): (20.0, 40, 200, 200),
        (date(2012, 9, 30), "unemployment_rate", "all"): (10.0, 100, 1000, 1000),
    }
    assert len(observations) == len(expected)
    for key, (value, numerator, denominator, n) in expected.items():
        row = observations.loc[key]
        assert row["value"] == pytest.approx(value) and row["n"] == n
        assert pd.isna(row["numerator"]) if numerator is None else row["numerator"] == numerator
        assert pd.isna(row["denominator"]) if denominator is None else row["denominator"] == denominator


def test_labour_force_share_every_quarter(tables):
    share = labour_force_share(tables, "101")
    assert share.to_dict("records") == [
        {
            "quarter_start": date(2012, 1, 1),
            "reference_date": date(2012, 3, 31),
            "numerator": 100.0,
            "denominator": 1000.0,
            "value": 10.0,
        },
        {
            "quarter_start": date(2012, 4, 1),
            "reference_date": date(2012, 6, 30),
            "numerator": 200.0,
            "denominator": 1000.0,
            "value": 20.0,
        },
        {
            "quarter_start": date(2012, 7, 1),
            "reference_date": date(2012, 9, 30),
            "numerator": 200.0,
            "denominator": 1000.0,
            "value": 20.0,
        },
    ]
    one_area = {"employment": tables["employment"].query("area_code == '101'")}
    assert labour_force_share(one_area).equals(share)


def staged(cells: pd.DataFrame, table: str = "KAS201") -> StagedDelivery:
    cells = cells.assign(_row=range(2, len(cells) + 2))
    delivery = Delivery(source="employment", path=None, name=f"StatBank {table}", sha256="0" * 64, modified=0.0)
    return StagedDelivery(delivery, date(2012, 9, 30), {"employment": cells})


def test_validation_names_a_code_outside_the_configured_set():
    cells = kas201("2012K3", date(2012, 9, 30), Q3)
    cells.loc[4, "status"] = "outside"
    with pytest.raises(DeliveryError) as error:
        validate(staged(cells))
    assert (error.value.file, error.value.column, error.value.rows) == ("StatBank KAS201", "SOCIO", [6])
    assert error.value.rule == "status is employed or unemployed"


def test_validation_names_a_cell_counted_twice():
    cells = kas201("2012K3", date(2012, 9, 30), Q3)
    with pytest.raises(DeliveryError) as error:
        validate(staged(pd.concat([cells, cells.iloc[[7]]], ignore_index=True)))
    assert error.value.rule == "one count per area, status, origin, age, sex and period"
    assert error.value.rows == [9, 62]


# RAS201, per band and sex, so ten bands and two sexes give: all origins (the five codes summed)
# 900 employed + 100 unemployed (10 %); non-Western (25: 3 + 1, 35: 1 + 0) 80 + 20 (20 %).
RAS201_CELLS = {
    ("00", "999"): 38,
    ("50", "999"): 3,
    ("00", "24"): 2,
    ("50", "24"): 1,
    ("00", "25"): 3,
    ("50", "25"): 1,
    ("00", "34"): 1,
    ("50", "34"): 0,
    ("00", "35"): 1,
    ("50", "35"): 0,
}


def ras201(year: int) -> pd.DataFrame:
    return cells("RAS201", str(year), date(year, 11, 30), RAS201_CELLS, ["M", "K"])


def test_an_annual_table_sums_origins_and_sexes_and_gives_its_year_to_s2():
    """2016 from RAS201 (a missing 2015 cell leaves that year out), 2017 from KAS201."""
    incomplete = ras201(2015)
    incomplete.loc[incomplete["origin"] == "34", "count"] = float("nan")
    tables = {
        "employment": pd.concat(
            [
                incomplete,
                ras201(2016),
                kas201("2017K1", date(2017, 3, 31), Q1),
                kas201("2017K3", date(2017, 9, 30), Q3),
            ],
            ignore_index=True,
        )
    }
    observations = compute(tables, "101").set_index(["reference_date", "measure", "group_code"])
    assert observations.loc[
        (date(2016, 11, 30), "unemployment_rate", "all"), ["value", "numerator", "denominator"]
    ].tolist() == [10.0, 100, 1000]
    assert observations.loc[
        (date(2016, 11, 30), "unemployment_rate", "non_western"), ["value", "numerator", "denominator"]
    ].tolist() == [20.0, 20, 100]
    headline = observations.xs("value", level="measure")["value"].droplevel("group_code")
    assert headline.to_dict() == pytest.approx(
        {date(2016, 11, 30): 10.0, date(2017, 3, 31): 15.0, date(2017, 9, 30): 10.0}
    )
    share = labour_force_share(tables, "101")
    # RAS201's value (100 of 1000) stands for each quarter of 2016; 2015's all-origins total is incomplete
    assert share[["quarter_start", "reference_date", "value"]].values.tolist() == [
        [date(2016, 1, 1), date(2016, 11, 30), 10.0],
        [date(2016, 4, 1), date(2016, 11, 30), 10.0],
        [date(2016, 7, 1), date(2016, 11, 30), 10.0],
        [date(2016, 10, 1), date(2016, 11, 30), 10.0],
        [date(2017, 1, 1), date(2017, 3, 31), 10.0],
        [date(2017, 7, 1), date(2017, 9, 30), 20.0],
    ]


def test_validation_holds_each_table_to_its_own_codes():
    annual = ras201(2016)
    validate(staged(annual, "RAS201"))
    annual.loc[annual.index[-1], "sex"] = "TOT"  # RAS201 has no total of the sexes
    with pytest.raises(DeliveryError) as error:
        validate(staged(annual, "RAS201"))
    assert (error.value.file, error.value.column, error.value.rule) == (
        "StatBank RAS201",
        "KØN",
        "sex is one of the configured codes",
    )


def test_the_calibrated_demo_reproduces_the_published_figures(tmp_path):
    """Spec 2.1: 10.8 in the 2012-S2 edition (RAS201's November 2012), falling every year."""
    write_statbank(tmp_path)
    with serve(tmp_path) as url, StatBankClient(url, backoff_factor=0) as client:
        answer = fetch(client, "101", date(2013, 12, 31))
    assert [s.delivery.name for s in answer.staged] == ["StatBank RAS201"] and not answer.failures
    tables = answer.staged[0].tables
    headline = compute(tables, "101").query("measure == 'value'").set_index("reference_date")["value"]
    assert headline.index.tolist() == [date(year, 11, 30) for year in range(2008, 2014)]
    assert headline[date(2012, 11, 30)] == pytest.approx(10.8, abs=0.05)
    assert headline.is_monotonic_decreasing
    share = labour_force_share(tables).set_index("reference_date")["value"]
    assert share[date(2010, 1, 1) : date(2012, 12, 31)].between(10.5, 11.5).all()
