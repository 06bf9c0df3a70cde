"""Indicators 6.1 (inclusion index) and 8.1 (experienced discrimination) from the inclusion
survey: weighted means by group (minority, majority, all), city-wide and per district, each with
a 95 % confidence interval that accounts for the weights.

The interval is the linearised (Taylor) one of the weighted mean as a ratio estimator,
    var(ȳ) = n/(n−1) · Σ w_i² (y_i − ȳ)² / (Σ w_i)²,   ȳ ± z·√var(ȳ).
`n` is the number of respondents the value rests on (unweighted): disclosure control judges it.
`numerator` and `denominator` stay NULL: a weighted mean has no person counts to show, and
weighted totals would be post-stratified population estimates, not persons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from barometer.config import source_config
from barometer.transforms.common import district_area_codes, expand_groups, finish, require
from scipy.stats import norm

INDICATORS = ["6.1", "8.1"]
GROUPS = {"minority": ["minority", "all"], "majority": ["majority", "all"]}
CELL = ["reference_date", "group_code", "area_code"]


def compute(tables: dict[str, pd.DataFrame], municipality_code: str) -> pd.DataFrame:
    config = source_config("survey")
    respondents = tables["survey"]
    require((respondents["weight"] > 0).all(), "weights are validated positive")
    require(respondents["origin_group"].isin(list(GROUPS)).all(), "groups are validated")
    z = norm.ppf(0.5 + config["confidence"] / 2)
    parts = [
        weighted_means(respondents.assign(y=index_scores(respondents, config)), "6.1", municipality_code, z),
        weighted_means(respondents.assign(y=100 * discriminated(respondents, config)), "8.1", municipality_code, z),
    ]
    return finish(pd.concat(parts, ignore_index=True))


def answers(respondents: pd.DataFrame, items: list[str], dont_know: int) -> pd.DataFrame:
    """Answer codes as numbers; don't know and empty both become NaN (not answered)."""
    codes = respondents[items].apply(pd.to_numeric).astype("float64")
    return codes.where(codes != dont_know)


def index_scores(respondents: pd.DataFrame, config: dict) -> pd.Series:
    """Each respondent's 0-100 score: the mean of the answered items, each rescaled from the
    answer scale (reversed items the other way round); NaN below the minimum of answered items."""
    low, high = config["answer_scale"]
    codes = answers(respondents, config["index_items"], config["dont_know"])
    require((codes.isna() | ((codes >= low) & (codes <= high))).all().all(), "answers are validated on the scale")
    scaled = 100 * (codes - low) / (high - low)
    reversed_items = config["reversed_items"]
    scaled[reversed_items] = 100 - scaled[reversed_items]
    enough = scaled.notna().sum(axis=1) >= config["min_items_answered"]
    return scaled.mean(axis=1).where(enough)


def discriminated(respondents: pd.DataFrame, config: dict) -> pd.Series:
    """1 for yes, 0 for no, NaN for don't know or no answer."""
    code = answers(respondents, [config["discrimination_item"]], config["dont_know"]).iloc[:, 0]
    require(
        code.dropna().isin([config["discrimination_yes"], config["discrimination_no"]]).all(),
        "answers to the discrimination question are validated yes or no",
    )
    return (code == config["discrimination_yes"]).astype("float64").where(code.notna())


def weighted_means(respondents: pd.DataFrame, indicator: str, municipality_code: str, z: float) -> pd.DataFrame:
    """Weighted mean of `y` with its confidence interval per reference date, group and area,
    over the respondents with a `y`."""
    answered = respondents.loc[respondents["y"].notna(), ["reference_date", "origin_group", "district", "weight", "y"]]
    cells = with_areas(expand_groups(answered, "origin_group", GROUPS), municipality_code)
    sums = cells.assign(wy=cells["weight"] * cells["y"]).groupby(CELL)[["weight", "wy"]].transform("sum")
    mean = sums["wy"] / sums["weight"]
    cells = cells.assign(mean=mean, spread=(cells["weight"] * (cells["y"] - mean)) ** 2)
    out = cells.groupby(CELL, as_index=False).agg(
        value=("mean", "first"), n=("y", "size"), total_weight=("weight", "sum"), spread=("spread", "sum")
    )
    variance = (out["n"] / (out["n"] - 1) * out["spread"] / out["total_weight"] ** 2).where(out["n"] > 1)
    half_width = z * np.sqrt(variance)
    return out.assign(
        indicator_code=indicator,
        measure="value",
        numerator=np.nan,
        denominator=np.nan,
        ci_low=out["value"] - half_width,
        ci_high=out["value"] + half_width,
    )


def with_areas(cells: pd.DataFrame, municipality_code: str) -> pd.DataFrame:
    """Every row once for the city and once more for its district, where the district is known."""
    local = cells.dropna(subset=["district"])
    district_codes = district_area_codes(local["district"], municipality_code)
    return pd.concat(
        [cells.assign(area_code=municipality_code), local.assign(area_code=district_codes)], ignore_index=True
    )
