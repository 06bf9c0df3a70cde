"""The observation frame every transform returns, and the roll-up every share indicator uses.

An observation is one number at the grain (indicator, measure, group, area, reference date).
`n` is the number of persons the value is computed over (NULL where the unit is not persons,
e.g. schools or areas): disclosure control judges it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEY = ["indicator_code", "measure", "group_code", "area_code", "reference_date"]
OBS_COLUMNS = KEY + ["value", "numerator", "denominator", "n", "ci_low", "ci_high"]
NUMERIC = ["value", "numerator", "denominator", "n", "ci_low", "ci_high"]


def finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in order, types fixed, rows sorted; asserts the grain is unique."""
    out = frame.copy()
    for column in OBS_COLUMNS:
        if column not in out.columns:
            out[column] = np.nan
    out = out[OBS_COLUMNS]
    out["reference_date"] = pd.to_datetime(out["reference_date"]).dt.date
    for column in NUMERIC:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    for column in ["indicator_code", "measure", "group_code", "area_code"]:
        out[column] = out[column].astype(str)
    assert not out.duplicated(KEY).any(), "observations must be unique per indicator/measure/group/area/date"
    return out.sort_values(KEY, ignore_index=True)


def expand_groups(frame: pd.DataFrame, category: str, groups: dict[str, list[str]]) -> pd.DataFrame:
    """One row per (row, group the row's category belongs to), as column `group_code`.

    `groups` maps each category value to its groups, e.g. {'non_western': ['non_western', 'all']};
    a category that maps to no group is dropped.
    """
    mapping = pd.DataFrame([(cat, g) for cat, gs in groups.items() for g in gs],
                           columns=[category, "group_code"])
    return frame.merge(mapping, on=category, how="inner")


def share_observations(cells: pd.DataFrame, indicator: str, municipality_code: str, *,
                       measure: str = "value", districts: bool = True) -> pd.DataFrame:
    """Percent shares for the city and, optionally, each district.

    `cells` has columns reference_date, group_code, district (1-10 or <NA>), numerator and
    denominator (person counts, additive). City values sum every row, districts their own rows.
    """
    assert {"reference_date", "group_code", "district", "numerator", "denominator"} <= set(cells.columns)
    keys = ["reference_date", "group_code"]
    city = cells.groupby(keys, as_index=False)[["numerator", "denominator"]].sum()
    city["area_code"] = municipality_code
    parts = [city]
    if districts:
        local = cells.dropna(subset=["district"])
        local = local.groupby(keys + ["district"], as_index=False)[["numerator", "denominator"]].sum()
        local["area_code"] = municipality_code + "-" + local["district"].astype(int).map("{:02d}".format)
        parts.append(local.drop(columns="district"))
    out = pd.concat(parts, ignore_index=True)
    out = out[out["denominator"] > 0]
    out["value"] = 100.0 * out["numerator"] / out["denominator"]
    out["n"] = out["denominator"]
    out["indicator_code"] = indicator
    out["measure"] = measure
    return out
