"""One half-year edition of the barometer: for each indicator, group and area, the latest value
measured up to the half-year's end and what it means (change, status, trend, target, gap).

Every series is one area's (a municipality's, a district's or the country's '000'), so an
edition of many municipalities is each one's edition side by side: none depends on another.

Sources are measured at different dates, so every row carries its own reference date and period:
an edition shows a value with the half-year it was measured in, never as if it were new.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
from barometer.config import Catalogue, edition_end, period_code
from barometer.config.districts import municipality_of
from barometer.transforms.common import KEY, OBS_COLUMNS, require

SERIES = ["indicator_code", "group_code", "area_code"]
TREND_POINTS = 4  # trends and paces are fitted to at most this many latest observations
ZERO_CHANGE = 1e-9  # below this a change is rounding, not movement
COLUMNS = [
    "edition_code",
    "indicator_code",
    "group_code",
    "area_code",
    "reference_date",
    "period_code",
    "value",
    "obs_status",
    "ci_low",
    "ci_high",
    "n",
    "previous_value",
    "previous_reference_date",
    "change",
    "status",
    "target_value",
    "target_year",
    "on_track",
    "trend_per_year",
    "gap",
    "years_to_parity",
]


def edition_entries(
    observations: pd.DataFrame,
    edition: str,
    catalogue: Catalogue,
    municipality_code: str,
    municipality_codes: Sequence[str] = (),
) -> pd.DataFrame:
    """The edition's rows (COLUMNS), one per series with a value by the edition's end.

    `observations` are the published rows (OBS_COLUMNS + obs_status) of every reference date,
    of any number of municipalities. The catalogue's targets are `municipality_code`'s, shown
    on its city row only. Every catalogue indicator appears for each municipality observed and
    each of `municipality_codes` (by default `municipality_code`): one with nothing measured
    there yet gets a single 'not_measured' row for the whole municipality, so goal 7 is shown
    rather than left out.
    """
    indicators = _indicator_table(catalogue)
    values = _values_until(observations, edition_end(edition), indicators)
    entries = _latest_and_previous(values).merge(indicators, on="indicator_code", how="left")
    entries["change"] = entries["value"] - entries["previous_value"]
    entries["status"] = _status(entries)
    entries = entries.merge(_recent_slopes(values, "value"), on=SERIES, how="left")
    entries["trend_per_year"] = entries["slope"]
    entries = _with_target(entries, municipality_code)
    entries = _with_gap(entries, _gap_series(values, indicators))
    municipalities = {*(municipality_codes or [municipality_code]), *municipality_of(observations["area_code"])}
    unmeasured = _not_measured(indicators, entries, sorted(municipalities))
    out = pd.concat(
        [_typed(entries.assign(edition_code=edition)), _typed(unmeasured.assign(edition_code=edition))],
        ignore_index=True,
    )
    return out.sort_values(SERIES, ignore_index=True)


def _indicator_table(catalogue: Catalogue) -> pd.DataFrame:
    """What the edition needs from the catalogue, one row per indicator."""
    rows = []
    for code, indicator in catalogue.indicators.items():
        gap = indicator.get("gap") or [None, None]
        target = indicator.get("target") or {}
        require(indicator.get("parity") is None or gap == [None, None], f"{code}: parity or gap, not both")
        require(len(gap) == 2, f"{code}: gap is [reference group, compared group]")
        rows.append(
            {
                "indicator_code": code,
                "direction": indicator["direction"],
                "survey": bool(indicator.get("survey", False)),
                "measured": indicator.get("measured", True),
                "parity": indicator.get("parity"),
                "gap_reference": gap[0],
                "gap_compared": gap[1],
                "target_level": target.get("value"),
                "target_by": target.get("year"),
                "target_group": target.get("group"),
            }
        )
    table = pd.DataFrame(rows)
    table[["parity", "target_level", "target_by"]] = table[["parity", "target_level", "target_by"]].astype(float)
    return table


def _values_until(observations: pd.DataFrame, end: date, indicators: pd.DataFrame) -> pd.DataFrame:
    """The headline values measured on or before `end`, sorted by series and date."""
    require(set(OBS_COLUMNS + ["obs_status"]) <= set(observations.columns), "published observations expected")
    require(not observations.duplicated(KEY).any(), "observations must be unique per key")
    values = observations[observations["measure"] == "value"].copy()
    values["reference_date"] = pd.to_datetime(values["reference_date"]).dt.date
    values = values[values["reference_date"] <= end]
    unknown = set(values["indicator_code"]) - set(indicators["indicator_code"])
    require(not unknown, f"indicators not in the catalogue: {sorted(unknown)}")
    unmeasured = set(indicators.loc[~indicators["measured"].astype(bool), "indicator_code"])
    require(not unmeasured & set(values["indicator_code"]), "an indicator marked measured: false has values")
    return values.sort_values(SERIES + ["reference_date"], ignore_index=True)


def _latest_and_previous(values: pd.DataFrame) -> pd.DataFrame:
    """Each series' latest observation beside the one before it (suppressed ones included)."""
    from_latest = values.groupby(SERIES).cumcount(ascending=False)
    previous = values.loc[from_latest == 1, SERIES + ["reference_date", "value", "ci_low", "ci_high"]]
    previous = previous.rename(
        columns={
            "reference_date": "previous_reference_date",
            "value": "previous_value",
            "ci_low": "previous_ci_low",
            "ci_high": "previous_ci_high",
        }
    )
    return values[from_latest == 0].merge(previous, on=SERIES, how="left")


def _status(entries: pd.DataFrame) -> pd.Series:
    """Progress, regress or unchanged by the indicator's direction; null where there is no change.

    A survey change is unchanged when its 95 % interval includes zero. With se = half-width / z
    for each value, the change's half-width z·sqrt(se1² + se2²) is sqrt(h1² + h2²): z cancels.
    Where either interval is unknown the change is judged as for any other indicator.
    """
    change = entries["change"]
    improvement = change.where(entries["direction"] == "higher", -change)
    half_width = (entries["ci_high"] - entries["ci_low"]) / 2
    previous_half_width = (entries["previous_ci_high"] - entries["previous_ci_low"]) / 2
    within_interval = entries["survey"] & (change.abs() <= np.hypot(half_width, previous_half_width))
    conditions = [
        entries["value"].isna(),
        entries["previous_reference_date"].isna(),
        change.isna(),
        within_interval | (change.abs() < ZERO_CHANGE),
        improvement > 0,
        improvement < 0,
    ]
    choices = [None, "first_measurement", None, "unchanged", "progress", "regress"]
    # numpy's stub has no overload for object choices (statuses and None, for "no status").
    statuses = np.select(conditions, choices, default=None)  # type: ignore[call-overload]
    return pd.Series(statuses, index=entries.index, dtype=object)


def _decimal_years(dates: pd.Series) -> pd.Series:
    """Dates as years, each day counted at its end: 31 December 2014 is 2015.0."""
    stamps = pd.to_datetime(dates)
    return stamps.dt.year + stamps.dt.day_of_year / np.where(stamps.dt.is_leap_year, 366, 365)


def _recent_slopes(points: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per series with ≥ 2 non-null points: the least-squares slope per year of `column` over its
    last TREND_POINTS points, and the points' mean year and mean value (the line's anchor)."""
    points = points.dropna(subset=[column]).sort_values(SERIES + ["reference_date"])
    points = points[points.groupby(SERIES).cumcount(ascending=False) < TREND_POINTS]
    fit = points[SERIES].assign(x=_decimal_years(points["reference_date"]), y=points[column])
    by_series = fit.groupby(SERIES)
    fit["x_mean"] = by_series["x"].transform("mean")
    fit["y_mean"] = by_series["y"].transform("mean")
    fit["sxy"] = (fit["x"] - fit["x_mean"]) * (fit["y"] - fit["y_mean"])
    fit["sxx"] = (fit["x"] - fit["x_mean"]) ** 2
    sums = fit.groupby(SERIES, as_index=False).agg(
        points=("x", "size"),
        x_mean=("x_mean", "first"),
        y_mean=("y_mean", "first"),
        sxy=("sxy", "sum"),
        sxx=("sxx", "sum"),
    )
    sums = sums[sums["points"] >= 2]
    require((sums["sxx"] > 0).all(), "a series has one observation per reference date")
    return sums.assign(slope=sums["sxy"] / sums["sxx"])[SERIES + ["slope", "x_mean", "y_mean"]]


def _with_target(entries: pd.DataFrame, municipality_code: str) -> pd.DataFrame:
    """Target, target year and whether the trend line reaches the target by 31 December of its
    year, on the city row of the target's group only (the target is the city's)."""
    entries = entries.copy()
    targeted = (entries["group_code"] == entries["target_group"]) & (entries["area_code"] == municipality_code)
    projection = entries["y_mean"] + entries["slope"] * (entries["target_by"] + 1 - entries["x_mean"])
    reaches = np.where(
        entries["direction"] == "lower", projection <= entries["target_level"], projection >= entries["target_level"]
    )
    entries["target_value"] = entries["target_level"].where(targeted)
    entries["target_year"] = entries["target_by"].where(targeted)
    entries["on_track"] = pd.Series(reaches, index=entries.index, dtype="boolean").where(targeted & projection.notna())
    return entries


def _gap_series(values: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """The gap at each reference date, on the series it is shown with: value − parity on every
    series of a parity indicator, reference group − compared group on the compared group's."""
    values = values.merge(
        indicators[["indicator_code", "parity", "gap_reference", "gap_compared"]], on="indicator_code"
    )
    to_parity = values[values["parity"].notna()].assign(gap=lambda v: v["value"] - v["parity"])
    at = ["indicator_code", "area_code", "reference_date"]
    reference = values.loc[values["group_code"] == values["gap_reference"], at + ["value"]]
    compared = values[values["group_code"] == values["gap_compared"]].merge(
        reference.rename(columns={"value": "reference_value"}), on=at, how="left"
    )
    between_groups = compared.assign(gap=compared["reference_value"] - compared["value"])
    return pd.concat([to_parity, between_groups], ignore_index=True)[SERIES + ["reference_date", "gap"]]


def _with_gap(entries: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
    """The latest gap, and the years it takes to close at its recent pace when it is closing."""
    entries = entries.merge(gaps, on=SERIES + ["reference_date"], how="left")
    pace = _recent_slopes(gaps, "gap")[SERIES + ["slope"]].rename(columns={"slope": "pace"})
    entries = entries.merge(pace, on=SERIES, how="left")
    closing = entries["gap"] * entries["pace"] < 0
    entries["years_to_parity"] = (entries["gap"].abs() / entries["pace"].abs()).where(closing)
    return entries


def _not_measured(indicators: pd.DataFrame, entries: pd.DataFrame, municipality_codes: list[str]) -> pd.DataFrame:
    """One 'not_measured' city row per municipality for each indicator it has no value of by the
    edition's end."""
    every = pd.MultiIndex.from_product(
        [municipality_codes, indicators["indicator_code"]], names=["area_code", "indicator_code"]
    ).to_frame(index=False)
    measured = entries[["indicator_code"]].assign(area_code=municipality_of(entries["area_code"]))
    missing = every.merge(measured.drop_duplicates(), how="left", indicator=True)
    missing = missing[missing["_merge"] == "left_only"]
    return missing[["indicator_code", "area_code"]].assign(group_code="all", status="not_measured")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """COLUMNS with the edition's types: dates as dates or None, on_track and target_year nullable."""
    out = frame.reindex(columns=COLUMNS)
    for column in ["reference_date", "previous_reference_date"]:
        dates = pd.to_datetime(out[column]).dt.date
        out[column] = dates.astype(object).where(dates.notna(), None)
    out["period_code"] = out["reference_date"].map(period_code, na_action="ignore")
    for column in ["edition_code", "indicator_code", "group_code", "area_code", "obs_status", "status"]:
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    for column in [
        "value",
        "ci_low",
        "ci_high",
        "n",
        "previous_value",
        "change",
        "target_value",
        "trend_per_year",
        "gap",
        "years_to_parity",
    ]:
        out[column] = out[column].astype(float)
    out["target_year"] = out["target_year"].astype("Int64")
    out["on_track"] = out["on_track"].astype("boolean")
    return out
