"""Edition entries against changes, statuses, trends, targets and gaps worked out by hand."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from barometer.config import Catalogue, load_catalogue
from barometer.transforms.common import KEY, finish
from barometer.transforms.editions import COLUMNS, edition_entries

CATALOGUE = Catalogue(
    goals={},
    groups={},
    indicators={
        "1.2": {"direction": "higher", "gap": ["danish", "non_western"]},
        "1.3": {"direction": "lower"},
        "2.1": {"direction": "lower", "parity": 0, "target": {"value": 5.8, "year": 2014, "group": "non_western"}},
        "6.1": {"direction": "higher", "survey": True, "gap": ["majority", "minority"]},
        "7.1": {"direction": "lower", "measured": False},
    },
)


def observations(rows: list[tuple]) -> pd.DataFrame:
    """(indicator, group, area, date, value[, ci half-width[, obs_status]]) headline rows."""
    records = []
    for indicator, group, area, when, value, *rest in rows:
        half_width = rest[0] if rest else np.nan
        records.append(
            {
                "indicator_code": indicator,
                "measure": "value",
                "group_code": group,
                "area_code": area,
                "reference_date": when,
                "value": value,
                "ci_low": value - half_width,
                "ci_high": value + half_width,
                "obs_status": rest[1] if len(rest) > 1 else "normal",
            }
        )
    frame = pd.DataFrame(records).sort_values(KEY, ignore_index=True)
    return finish(frame).assign(obs_status=frame["obs_status"].to_numpy())  # finish keeps KEY order


def entry(entries: pd.DataFrame, indicator: str, group: str, area: str = "101") -> pd.Series:
    row = entries[
        (entries["indicator_code"] == indicator) & (entries["group_code"] == group) & (entries["area_code"] == area)
    ]
    assert len(row) == 1
    return row.iloc[0]


def test_higher_is_better_rise_is_progress_and_first_value_is_first_measurement():
    obs = observations(
        [("1.2", "danish", "101", date(2011, 10, 1), 80.0), ("1.2", "danish", "101", date(2012, 10, 1), 83.0)]
    )
    latest = entry(edition_entries(obs, "2012-S2", CATALOGUE, "101"), "1.2", "danish")
    assert (latest["value"], latest["previous_value"], latest["change"]) == (83.0, 80.0, 3.0)
    assert latest["status"] == "progress"
    assert latest["reference_date"] == date(2012, 10, 1) and latest["period_code"] == "2012-S2"
    assert latest["previous_reference_date"] == date(2011, 10, 1)
    # In 2012-S1 the October 2011 value is shown with its own date, not carried into 2012-S1.
    earlier = entry(edition_entries(obs, "2012-S1", CATALOGUE, "101"), "1.2", "danish")
    assert (earlier["value"], earlier["period_code"], earlier["status"]) == (80.0, "2011-S2", "first_measurement")
    assert earlier["previous_reference_date"] is None and np.isnan(earlier["change"])


def test_lower_is_better_fall_is_progress_and_no_change_is_unchanged():
    obs = observations(
        [
            ("1.3", "all", "101", date(2011, 11, 30), 12.0),
            ("1.3", "all", "101", date(2012, 11, 30), 7.0),
            ("1.3", "all", "101-01", date(2011, 11, 30), 40.0),
            ("1.3", "all", "101-01", date(2012, 11, 30), 40.0),
        ]
    )
    entries = edition_entries(obs, "2012-S2", CATALOGUE, "101")
    city = entry(entries, "1.3", "all")
    assert (city["change"], city["status"]) == (-5.0, "progress")
    assert entry(entries, "1.3", "all", "101-01")["status"] == "unchanged"


def test_survey_change_within_its_confidence_interval_is_unchanged():
    obs = observations(
        [
            ("6.1", "minority", "101", date(2011, 2, 28), 65.0, 3.0),
            ("6.1", "minority", "101", date(2012, 2, 29), 67.0, 3.0),
            ("6.1", "majority", "101", date(2011, 2, 28), 73.0, 3.0),
            ("6.1", "majority", "101", date(2012, 2, 29), 83.0, 3.0),
        ]
    )
    entries = edition_entries(obs, "2012-S1", CATALOGUE, "101")
    # half-width of the change: sqrt(3² + 3²) = 4.24 — includes 2, excludes 10
    minority = entry(entries, "6.1", "minority")
    assert (minority["change"], minority["status"]) == (2.0, "unchanged")
    assert entry(entries, "6.1", "majority")["status"] == "progress"


def test_suppressed_latest_value_has_no_change_or_status():
    obs = observations(
        [
            ("1.3", "all", "101", date(2011, 11, 30), 12.0),
            ("1.3", "all", "101", date(2012, 11, 30), np.nan, np.nan, "suppressed"),
        ]
    )
    latest = entry(edition_entries(obs, "2012-S2", CATALOGUE, "101"), "1.3", "all")
    assert latest["obs_status"] == "suppressed" and np.isnan(latest["value"]) and np.isnan(latest["change"])
    assert latest["status"] is None and latest["previous_value"] == 12.0


def test_target_reached_by_trend_is_on_track():
    obs = observations(
        [
            ("5.2", "all", "101", date(2010, 12, 31), 12.0),
            ("5.2", "all", "101", date(2012, 12, 31), 7.0),
            ("5.2", "all", "101-01", date(2010, 12, 31), 3.0),
            ("5.2", "all", "101-01", date(2012, 12, 31), 2.0),
        ]
    )
    entries = edition_entries(obs, "2012-S2", load_catalogue(), "101")
    city = entry(entries, "5.2", "all")
    # slope (7 − 12) / 2 years = −2.5; end of 2014: 7 − 2 × 2.5 = 2 ≤ 6
    assert city["trend_per_year"] == pytest.approx(-2.5)
    assert (city["target_value"], city["target_year"], city["on_track"]) == (6.0, 2014, True)
    district = entry(entries, "5.2", "all", "101-01")
    assert district["trend_per_year"] == pytest.approx(-0.5)
    assert np.isnan(district["target_value"]) and district["on_track"] is pd.NA


def test_parity_indicator_gap_target_and_years_to_parity():
    obs = observations(
        [
            ("2.1", "non_western", "101", date(2011, 12, 31), 10.8),
            ("2.1", "non_western", "101", date(2012, 12, 31), 10.3),
        ]
    )
    latest = entry(edition_entries(obs, "2012-S2", CATALOGUE, "101"), "2.1", "non_western")
    # slope −0.5/yr; end of 2014: 10.3 − 1.0 = 9.3 > 5.8; gap to parity 0 closes in 10.3 / 0.5 years
    assert latest["on_track"] is not pd.NA and not latest["on_track"]
    assert latest["gap"] == pytest.approx(10.3)
    assert latest["years_to_parity"] == pytest.approx(20.6)
    first = entry(edition_entries(obs, "2012-S1", CATALOGUE, "101"), "2.1", "non_western")
    assert first["on_track"] is pd.NA and np.isnan(first["trend_per_year"]) and np.isnan(first["years_to_parity"])


def test_group_gap_closing_from_20_to_15_in_a_year_closes_in_3_years():
    obs = observations(
        [
            ("1.2", "danish", "101", date(2011, 12, 31), 85.0),
            ("1.2", "danish", "101", date(2012, 12, 31), 84.0),
            ("1.2", "non_western", "101", date(2011, 12, 31), 65.0),
            ("1.2", "non_western", "101", date(2012, 12, 31), 69.0),
            ("1.2", "danish", "101-01", date(2011, 12, 31), 85.0),
            ("1.2", "danish", "101-01", date(2012, 12, 31), 86.0),
            ("1.2", "non_western", "101-01", date(2011, 12, 31), 75.0),
            ("1.2", "non_western", "101-01", date(2012, 12, 31), 74.0),
        ]
    )
    entries = edition_entries(obs, "2012-S2", CATALOGUE, "101")
    compared = entry(entries, "1.2", "non_western")
    assert compared["gap"] == 15.0 and compared["years_to_parity"] == pytest.approx(3.0)
    assert np.isnan(entry(entries, "1.2", "danish")["gap"])
    widening = entry(entries, "1.2", "non_western", "101-01")  # 10 → 12
    assert widening["gap"] == 12.0 and np.isnan(widening["years_to_parity"])


def test_trend_uses_the_last_four_observations_only():
    obs = observations(
        [
            ("1.3", "all", "101", date(year, 12, 31), value)
            for year, value in zip(range(2008, 2013), [100.0, 0.0, 2.0, 4.0, 6.0], strict=True)
        ]
    )
    assert entry(edition_entries(obs, "2012-S2", CATALOGUE, "101"), "1.3", "all")["trend_per_year"] == pytest.approx(
        2.0
    )


def test_unmeasured_indicators_get_one_not_measured_row():
    obs = observations([("1.3", "all", "101", date(2012, 11, 30), 7.0)])
    entries = edition_entries(obs, "2012-S2", load_catalogue(), "101")
    assert list(entries.columns) == COLUMNS
    assert set(entries["edition_code"]) == {"2012-S2"}
    unmeasured = entries[entries["status"] == "not_measured"]
    assert set(unmeasured["indicator_code"]) == set(load_catalogue().indicators) - {"1.3"}
    goal_7 = entry(entries, "7.1", "all")
    assert goal_7["reference_date"] is None and np.isnan(goal_7["value"]) and goal_7["on_track"] is pd.NA


def test_observation_of_an_unknown_indicator_is_refused():
    obs = observations([("9.9", "all", "101", date(2012, 11, 30), 7.0)])
    with pytest.raises(AssertionError, match="9.9"):
        edition_entries(obs, "2012-S2", CATALOGUE, "101")


def test_municipalities_side_by_side_each_get_their_own_edition():
    copenhagen = [
        ("5.2", "all", "101", date(2010, 12, 31), 12.0),
        ("5.2", "all", "101", date(2012, 12, 31), 7.0),
        ("5.2", "all", "101-01", date(2012, 12, 31), 2.0),
    ]
    aarhus = [("5.2", "all", "751", date(2010, 12, 31), 4.0), ("5.2", "all", "751", date(2012, 12, 31), 5.0)]
    alone = edition_entries(observations(copenhagen), "2012-S2", load_catalogue(), "101")
    together = edition_entries(observations(copenhagen + aarhus), "2012-S2", load_catalogue(), "101", ["101", "751"])
    in_copenhagen = together["area_code"].str.startswith("101")
    pd.testing.assert_frame_equal(together[in_copenhagen].reset_index(drop=True), alone)
    city = entry(together, "5.2", "all", "751")
    assert (city["value"], city["change"], city["status"]) == (5.0, 1.0, "regress")
    assert np.isnan(city["target_value"])  # the catalogue's targets are Copenhagen's
    unmeasured = together[together["status"] == "not_measured"]
    assert set(unmeasured.loc[unmeasured["area_code"] == "751", "indicator_code"]) == set(
        load_catalogue().indicators
    ) - {"5.2"}


def test_a_municipality_of_the_load_without_observations_is_not_measured_throughout():
    nothing = observations([("5.2", "all", "101", date(2012, 12, 31), 7.0)]).iloc[:0]
    entries = edition_entries(nothing, "2012-S2", load_catalogue(), "101", ["147"])
    assert set(entries["area_code"]) == {"147"} and set(entries["status"]) == {"not_measured"}
