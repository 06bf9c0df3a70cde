"""The observation frame every transform returns, the roll-up every share indicator uses, and
the comparison of institutions with their districts that 1.3 and 1.4 share.

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


class AssumptionBroken(AssertionError):
    """A transform's assumption about its input does not hold: a bug upstream (validation lets
    through what it should not), never bad data, which validation rejects first. Raised always,
    unlike `assert`, which `python -O` strips."""


def require(condition: object, message: str) -> None:
    if not condition:
        raise AssumptionBroken(message)


def finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in order, types fixed, rows sorted; refuses a grain that is not unique."""
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
    if out.duplicated(KEY).any():
        raise ValueError("observations must be unique per indicator/measure/group/area/date")
    return out.sort_values(KEY, ignore_index=True)


def expand_groups(frame: pd.DataFrame, category: str, groups: dict[str, list[str]]) -> pd.DataFrame:
    """One row per (row, group the row's category belongs to), as column `group_code`.

    `groups` maps each category value to its groups, e.g. {'non_western': ['non_western', 'all']};
    a category that maps to no group is dropped.
    """
    mapping = pd.DataFrame([(cat, g) for cat, gs in groups.items() for g in gs], columns=[category, "group_code"])
    return frame.merge(mapping, on=category, how="inner")


def counted_cells(
    persons: pd.DataFrame, counted: pd.Series, category: str, groups: dict[str, list[str]]
) -> pd.DataFrame:
    """Persons rolled up to share cells: per reference date, `category` value and district (<NA>
    kept), how many are `counted` (numerator) of how many (denominator), expanded to `groups`
    as `expand_groups` does. Counts add up, so rolling up first gives the shares exactly, and
    the expansion copies cells, not persons."""
    keys = ["reference_date", category, "district"]
    cells = (
        persons[keys]
        .assign(numerator=counted.astype("int64"))
        .groupby(keys, dropna=False, observed=True, as_index=False)
        .agg(numerator=("numerator", "sum"), denominator=("numerator", "size"))
    )
    return expand_groups(cells.astype({category: str}), category, groups)


def in_dtypes_of(frame: pd.DataFrame, lookup: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """`lookup`'s rows whose `key` values `frame`'s categorical key columns can hold, in those
    columns' dtypes: merging categories of one dtype joins their codes, whereas differing dtypes
    make pandas convert every one of the frame's rows to objects first."""
    categorical = {
        column: frame[column].dtype for column in key if isinstance(frame[column].dtype, pd.CategoricalDtype)
    }
    for column, dtype in categorical.items():
        lookup = lookup[lookup[column].isin(dtype.categories)]
    return lookup.astype(categorical)


def district_area_codes(districts: pd.Series, municipality_code: str) -> pd.Series:
    """District numbers as area codes: 3 -> '101-03'."""
    return municipality_code + "-" + districts.astype(int).astype(str).str.zfill(2)


def share_observations(
    cells: pd.DataFrame, indicator: str, municipality_code: str, *, measure: str = "value", districts: bool = True
) -> pd.DataFrame:
    """Percent shares for the city and, optionally, each district.

    `cells` has columns reference_date, group_code, district (1-10 or <NA>), numerator and
    denominator (person counts, additive). City values sum every row, districts their own rows.
    """
    missing = {"reference_date", "group_code", "district", "numerator", "denominator"} - set(cells.columns)
    if missing:
        raise ValueError(f"share cells lack columns {sorted(missing)}")
    keys = ["reference_date", "group_code"]
    city = cells.groupby(keys, as_index=False)[["numerator", "denominator"]].sum()
    city["area_code"] = municipality_code
    parts = [city]
    if districts:
        local = cells.dropna(subset=["district"])
        local = local.groupby(keys + ["district"], as_index=False)[["numerator", "denominator"]].sum()
        local["area_code"] = district_area_codes(local["district"], municipality_code)
        parts.append(local.drop(columns="district"))
    out = pd.concat(parts, ignore_index=True)
    out = out[out["denominator"] > 0]
    out["value"] = 100.0 * out["numerator"] / out["denominator"]
    out["n"] = out["denominator"]
    out["indicator_code"] = indicator
    out["measure"] = measure
    return out


def compare_with_districts(
    institutions: pd.DataFrame,
    members: pd.DataFrame,
    residents: pd.DataFrame,
    unit: str,
    flag: str,
    points: float,
    by_district: bool = True,
) -> pd.DataFrame:
    """One row per institution with members: its members and flagged members, its district's
    residents and flagged residents, and whether the two flagged shares differ by more than
    `points` percentage points.

    `institutions` has reference_date, `unit` (the institution's id) and district. `members` and
    `residents` have one row per person with reference_date and the boolean `flag`; members also
    have `unit` (<NA>: in none), residents district (<NA>: not known, so left out). An
    institution whose district has no residents has nothing to deviate from and is left out.
    The shares are compared cross-multiplied in integers, so a difference of exactly `points` is
    never tipped over the threshold by floating point. Without `by_district` (a municipality
    without districts) every institution is compared with the whole municipality's residents,
    and the rows carry no district.
    """
    if not by_district:
        institutions, residents = institutions.assign(district=0), residents.assign(district=0)
    counts = {"members": (flag, "size"), flag: (flag, "sum")}
    enrolled = members.groupby(["reference_date", unit], as_index=False).agg(**counts)
    in_district = (
        residents.dropna(subset=["district"]).groupby(["reference_date", "district"], as_index=False).agg(**counts)
    )
    compared = (
        institutions[["reference_date", unit, "district"]]
        .merge(enrolled, on=["reference_date", unit], how="inner", validate="one_to_one")
        .merge(in_district, on=["reference_date", "district"], how="inner", suffixes=("", "_in_district"))
    )
    gap = (
        compared[flag] * compared["members_in_district"] - compared[f"{flag}_in_district"] * compared["members"]
    ).abs()
    compared["deviates"] = 100 * gap > points * compared["members"] * compared["members_in_district"]
    if not by_district:
        compared["district"] = pd.array([pd.NA] * len(compared), dtype="Int64")
    return compared


def deviating_share(compared: pd.DataFrame, indicator: str, municipality_code: str) -> pd.DataFrame:
    """Percent of the compared institutions that deviate, city-wide and per district (the
    institution's own). The unit is institutions, so `n` stays empty."""
    cells = compared.assign(group_code="all", numerator=compared["deviates"].astype(int), denominator=1)
    return share_observations(cells, indicator, municipality_code).assign(n=np.nan)
