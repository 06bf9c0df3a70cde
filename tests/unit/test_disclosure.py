"""Disclosure control against suppression patterns worked out by hand."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from barometer.transforms.common import finish
from barometer.transforms.disclosure import suppress

NOV_2012 = date(2012, 11, 30)
MIN_PERSONS = 5


def observations(rows: list[tuple], indicator: str = "4.1", when: date = NOV_2012) -> pd.DataFrame:
    """(group, area, n[, measure]) rows: value 50 %, numerator n / 2 of denominator n."""
    frame = pd.DataFrame(
        [
            (indicator, row[3] if len(row) > 3 else "value", row[0], row[1], when, 50.0, row[2] / 2, row[2], row[2])
            for row in rows
        ],
        columns=[
            "indicator_code",
            "measure",
            "group_code",
            "area_code",
            "reference_date",
            "value",
            "numerator",
            "denominator",
            "n",
        ],
    )
    return finish(frame)


def suppressed_cells(result: pd.DataFrame) -> set[tuple[str, str]]:
    hidden = result[result["obs_status"] == "suppressed"]
    return set(zip(hidden["group_code"], hidden["area_code"], strict=True))


def test_small_district_and_next_smallest_district_are_suppressed_with_all_measures():
    rows = [
        ("minority", "101", 100),
        ("minority", "101-01", 3),
        ("minority", "101-01", 3, "completed"),
        ("minority", "101-02", 40),
        ("minority", "101-03", 20),
        ("minority", "101-04", 37),
    ]
    result = suppress(observations(rows), MIN_PERSONS)
    # 101-01 (n 3) is primary; the city minus the other districts would give it back, so the
    # smallest published district (101-03, n 20) goes too. The city stays.
    assert suppressed_cells(result) == {("minority", "101-01"), ("minority", "101-03")}
    hidden = result[result["obs_status"] == "suppressed"]
    assert len(hidden) == 3 and len(result) == 6
    assert hidden[["value", "numerator", "denominator", "n", "ci_low", "ci_high"]].isna().all().all()
    assert result.loc[result["area_code"] == "101-04", "value"].tolist() == [50.0]


def test_ties_between_districts_go_to_the_lowest_code():
    rows = [
        ("minority", "101", 100),
        ("minority", "101-01", 3),
        ("minority", "101-02", 40),
        ("minority", "101-03", 20),
        ("minority", "101-04", 20),
    ]
    result = suppress(observations(rows), MIN_PERSONS)
    assert suppressed_cells(result) == {("minority", "101-01"), ("minority", "101-03")}


def test_group_that_all_minus_danish_would_reveal_is_protected():
    rows = [("all", "101", 50), ("minority", "101", 4), ("danish", "101", 46)]
    result = suppress(observations(rows), MIN_PERSONS)
    # minority (4) is primary; all − danish would give it back, so danish (46 < 50) goes too.
    assert suppressed_cells(result) == {("minority", "101"), ("danish", "101")}
    assert result.loc[result["group_code"] == "all", "obs_status"].tolist() == ["normal"]


def test_incomplete_partition_reveals_nothing():
    rows = [("all", "101", 50), ("minority", "101", 4)]
    result = suppress(observations(rows), MIN_PERSONS)
    assert suppressed_cells(result) == {("minority", "101")}


def test_suppression_cascades_between_groups_and_districts_until_stable():
    n = {"101": (300, 60, 240), "101-01": (100, 3, 97), "101-02": (100, 27, 73), "101-03": (100, 30, 70)}
    rows = [
        (group, area, count)
        for area, counts in n.items()
        for group, count in zip(["all", "minority", "danish"], counts, strict=True)
    ]
    result = suppress(observations(rows), MIN_PERSONS)
    # round 1: minority/01 is primary → danish/01 (its partition: all 100 > danish 97) and
    #          minority/02 (smallest published minority district, 27)
    # round 2: danish/02 (partition 02) and danish/03 (smallest published danish district, 70)
    # round 3: minority/03 (partition 03); now every set hides none or at least two members.
    districts = ["101-01", "101-02", "101-03"]
    assert suppressed_cells(result) == {(g, a) for g in ["minority", "danish"] for a in districts}


def test_not_person_based_values_are_never_suppressed_and_provisional_is_kept():
    frame = observations([("all", "101", 100), ("all", "101-01", 2)], indicator="5.1")
    frame.loc[frame["area_code"] == "101-01", "n"] = np.nan
    frame["obs_status"] = ["normal", "provisional"]
    result = suppress(frame, MIN_PERSONS)
    assert result["obs_status"].tolist() == ["normal", "provisional"]
    assert result["value"].tolist() == [50.0, 50.0]


def test_suppression_is_idempotent():
    rows = [
        ("all", "101", 50),
        ("minority", "101", 4),
        ("danish", "101", 46),
        ("minority", "101-01", 3),
        ("minority", "101-02", 1),
    ]
    once = suppress(observations(rows), MIN_PERSONS)
    pd.testing.assert_frame_equal(suppress(once, MIN_PERSONS), once)


def test_a_date_is_suppressed_the_same_whatever_other_dates_are_present():
    rows = [("all", "101", 50), ("minority", "101", 4), ("danish", "101", 46)]
    later = [("all", "101", 50), ("minority", "101", 9), ("danish", "101", 41)]
    both = pd.concat([observations(rows), observations(later, when=date(2013, 11, 30))], ignore_index=True)
    alone = suppress(observations(rows), MIN_PERSONS)
    together = suppress(both, MIN_PERSONS)
    pd.testing.assert_frame_equal(together[together["reference_date"] == NOV_2012], alone)
    assert set(together.loc[together["reference_date"] != NOV_2012, "obs_status"]) == {"normal"}


def test_unknown_status_is_refused():
    frame = observations([("all", "101", 50)]).assign(obs_status="secret")
    with pytest.raises(AssertionError, match="obs_status"):
        suppress(frame, MIN_PERSONS)
