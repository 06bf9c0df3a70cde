"""National shares against sums worked out by hand, and disclosure control across municipalities:
no suppressed municipal cell can be recovered as the national total minus the others."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from barometer.config import Catalogue
from barometer.transforms.common import AssumptionBroken, finish
from barometer.transforms.disclosure import suppress
from barometer.transforms.national import national_shares

OCTOBER = date(2012, 10, 1)
MIN_PERSONS = 5
CATALOGUE = Catalogue(
    goals={},
    groups={},
    indicators={
        "1.2": {"unit": "percent", "direction": "higher"},
        "2.1": {"unit": "percentage points", "direction": "lower"},
    },
)


def municipal(rows: list[tuple], indicator: str = "1.2") -> pd.DataFrame:
    """(area, group, numerator, denominator) city-wide shares, published ('normal')."""
    frame = pd.DataFrame(
        [(indicator, "value", group, area, OCTOBER, 100 * num / den, num, den, den) for area, group, num, den in rows],
        columns=["indicator_code", "measure", "group_code", "area_code", "reference_date", "value"]
        + ["numerator", "denominator", "n"],
    )
    return finish(frame).assign(obs_status="normal")


def suppressed_per_municipality(frame: pd.DataFrame) -> pd.DataFrame:
    """Disclosure control as each municipality's refresh applies it: on its own cells only."""
    return pd.concat([suppress(rows, MIN_PERSONS) for _, rows in frame.groupby("area_code")], ignore_index=True)


def test_a_national_share_is_the_sum_of_numerators_over_the_sum_of_denominators():
    # 40/50 = 80 % and 1/10 = 10 %: the mean of percentages would be 45 %, the share is 41/60
    national = national_shares(municipal([("101", "danish", 40, 50), ("147", "danish", 1, 10)]), CATALOGUE)
    assert national[["area_code", "numerator", "denominator", "n", "municipalities_covered", "obs_status"]].to_dict(
        "records"
    ) == [
        {
            "area_code": "000",
            "numerator": 41.0,
            "denominator": 60.0,
            "n": 60.0,
            "municipalities_covered": 2,
            "obs_status": "normal",
        }
    ]
    assert national["value"].tolist() == [pytest.approx(100 * 41 / 60)]


def test_only_share_indicators_and_only_several_municipalities_give_national_figures():
    two_municipalities = pd.concat(
        [municipal([("101", "all", 4, 10), ("147", "all", 5, 10)], indicator="2.1")], ignore_index=True
    )
    assert national_shares(two_municipalities, CATALOGUE).empty  # percentage points: not a share
    assert national_shares(municipal([("101", "danish", 40, 50)]), CATALOGUE).empty  # one municipality


def test_a_value_that_is_not_its_share_is_refused():
    rows = municipal([("101", "danish", 40, 50), ("147", "danish", 30, 40)])
    rows.loc[0, "value"] = 70.0
    with pytest.raises(AssumptionBroken, match="not shares"):
        national_shares(rows, CATALOGUE)


# Three municipalities' 'all' = danish + minority; Aarhus's minority cell (n 3) is primary, and
# its danish cell goes too (secondary, within the municipality's group partition).
CELLS = [
    ("101", "all", 60, 100),
    ("101", "danish", 45, 70),
    ("101", "minority", 15, 30),
    ("147", "all", 30, 50),
    ("147", "danish", 25, 40),
    ("147", "minority", 5, 10),
    ("751", "all", 20, 40),
    ("751", "danish", 19, 37),
    ("751", "minority", 1, 3),
]


def test_no_suppressed_municipal_cell_is_recoverable_from_the_national_total():
    stored = suppressed_per_municipality(municipal(CELLS))
    hidden = stored[stored["obs_status"] == "suppressed"]
    assert set(zip(hidden["area_code"], hidden["group_code"], strict=True)) == {("751", "danish"), ("751", "minority")}
    national = national_shares(stored, CATALOGUE).set_index("group_code")
    published = stored[stored["obs_status"] != "suppressed"]
    for _, cell in hidden.iterrows():
        others = published[
            (published["group_code"] == cell["group_code"]) & (published["area_code"] != cell["area_code"])
        ]
        for part in ["numerator", "denominator"]:
            # national − the others is nothing: the hidden cell was never in the sum
            assert national.loc[cell["group_code"], part] - others[part].sum() == 0
        assert national.loc[cell["group_code"], "municipalities_covered"] == len(others) == 2
    # nor across the group partition: national all − national danish − national minority is
    # Aarhus's published 'all' cell, nothing more
    for part in ["numerator", "denominator"]:
        rest = national.loc["all", part] - national.loc["danish", part] - national.loc["minority", part]
        assert (
            rest == published.loc[(published["area_code"] == "751") & (published["group_code"] == "all"), part].item()
        )
    assert national.loc["all", "municipalities_covered"] == 3


def test_the_national_figures_do_not_depend_on_what_a_suppressed_cell_holds():
    other_truth = [cell if cell[:2] != ("751", "minority") else ("751", "minority", 3, 4) for cell in CELLS]
    other_truth = [cell if cell[:2] != ("751", "danish") else ("751", "danish", 17, 36) for cell in other_truth]
    one, two = (national_shares(suppressed_per_municipality(municipal(c)), CATALOGUE) for c in (CELLS, other_truth))
    pd.testing.assert_frame_equal(one, two)


def test_provisional_municipal_values_make_the_national_value_provisional():
    rows = municipal([("101", "danish", 40, 50), ("147", "danish", 30, 40)])
    rows.loc[rows["area_code"] == "147", "obs_status"] = "provisional"
    assert national_shares(rows, CATALOGUE)["obs_status"].tolist() == ["provisional"]
    assert np.isnan(national_shares(rows, CATALOGUE)["ci_low"]).all()
