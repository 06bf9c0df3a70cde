"""National figures summed over municipalities: a share's numerators over its denominators,
never a mean of percentages, with the number of municipalities each figure covers beside it.

Only published municipal cells count. A suppressed cell is left out of the sum (the count says
so), which makes every national figure a sum of published numbers: the national total minus
the other municipalities gives back nothing that was suppressed, and one municipality's refresh
never changes another's rows. Figures delivered nationally (StatBank's '000') are not computed
here; they reach the warehouse like any area's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from barometer.config import Catalogue
from barometer.config.municipalities import ALL_DENMARK
from barometer.transforms.common import KEY, OBS_COLUMNS, require

SHARE_UNIT = "percent"  # shares of persons (or schools, institutions): numerators and denominators add up
MIN_MUNICIPALITIES = 2  # one municipality's figure is its own, not a national one
CELL = ["indicator_code", "measure", "group_code", "reference_date"]
COLUMNS = OBS_COLUMNS + ["obs_status", "municipalities_covered"]


def share_indicators(catalogue: Catalogue) -> list[str]:
    """The indicators whose values are shares (percent of a count)."""
    return [code for code, indicator in catalogue.indicators.items() if indicator["unit"] == SHARE_UNIT]


def national_shares(observations: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The national rows (area '000', COLUMNS) of every share cell, from municipal city-wide rows.

    `observations` are stored rows (OBS_COLUMNS + obs_status) of municipalities' own areas
    ('101', not '101-03'), suppressed ones included. A cell (indicator, measure, group, reference
    date) sums the numerators and denominators of the municipalities where it is published with
    both; `n` sums their n where any is known. Nothing is computed while the rows come from fewer
    than MIN_MUNICIPALITIES municipalities.
    """
    require(set(OBS_COLUMNS + ["obs_status"]) <= set(observations.columns), "stored observations expected")
    require((~observations["area_code"].str.contains("-")).all(), "municipal city-wide rows expected")
    require((observations["area_code"] != ALL_DENMARK).all(), "national rows are not summed again")
    shares = observations[observations["indicator_code"].isin(share_indicators(catalogue))]
    if shares["area_code"].nunique() < MIN_MUNICIPALITIES:
        return pd.DataFrame(columns=COLUMNS)
    published = shares[
        (shares["obs_status"] != "suppressed") & shares["numerator"].notna() & shares["denominator"].notna()
    ]
    _check_shares(published)
    if published.empty:
        return pd.DataFrame(columns=COLUMNS)
    sums = published.groupby(CELL, as_index=False).agg(
        numerator=("numerator", "sum"),
        denominator=("denominator", "sum"),
        n=("n", lambda n: n.sum(min_count=1)),
        municipalities_covered=("area_code", "nunique"),
        provisional=("obs_status", lambda status: (status == "provisional").any()),
    )
    sums = sums[sums["denominator"] > 0]
    national = sums.assign(
        area_code=ALL_DENMARK,
        value=100 * sums["numerator"] / sums["denominator"],
        ci_low=np.nan,
        ci_high=np.nan,
        obs_status=np.where(sums["provisional"], "provisional", "normal"),
    )
    return national[COLUMNS].sort_values(KEY, ignore_index=True)


def _check_shares(rows: pd.DataFrame) -> None:
    """Summing numerators is honest only where each value is 100 × numerator / denominator."""
    recomputed = 100 * rows["numerator"] / rows["denominator"]
    require(((rows["value"] - recomputed).abs() < 1e-6).all(), f"{SHARE_UNIT} rows that are not shares of a count")
