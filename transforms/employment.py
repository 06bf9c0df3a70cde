"""Indicator 2.1, excess unemployment of non-Western residents, and the labour-force share that
indicator 3.1 compares municipal staff with. Both come from KAS201's 16-64 year-olds."""

from __future__ import annotations

from typing import Any

import pandas as pd
from barometer.config import source_config
from barometer.sources.employment import NAME, TABLES
from barometer.transforms.common import finish

INDICATORS = ["2.1"]
TABLE = TABLES[0]
CELL = ["area_code", "status", "origin", "age", "sex", "quarter"]
QUARTER = ["quarter", "reference_date"]


def compute(tables: dict[str, pd.DataFrame], municipality_code: str) -> pd.DataFrame:
    """Per half-year (its configured quarter): both groups' unemployment rates and, as the
    headline, non-Western minus all in percentage points over the non-Western labour force."""
    config = source_config(NAME)
    force = _labour_force(tables[TABLE], config, municipality_code)
    half_year = force[force["quarter"].str.slice(4).isin(config["half_year_quarter"].values())]
    rates = half_year.assign(
        measure="unemployment_rate",
        value=100 * half_year["unemployed"] / half_year["labour_force"],
        numerator=half_year["unemployed"],
        denominator=half_year["labour_force"],
        n=half_year["labour_force"],
    )
    gap = (
        pd.DataFrame(
            {
                "value": _of_group(rates, "non_western", "value") - _of_group(rates, "all", "value"),
                "n": _of_group(rates, "non_western", "n"),
            }
        )
        .dropna()
        .reset_index()
    )
    gap["measure"] = "value"
    gap["group_code"] = "non_western"
    observations = pd.concat([gap, rates], ignore_index=True)
    observations["indicator_code"] = INDICATORS[0]
    observations["area_code"] = municipality_code
    return finish(observations)


def labour_force_share(tables: dict[str, pd.DataFrame], municipality_code: str | None = None) -> pd.DataFrame:
    """Non-Western share (percent) of the 16-64 labour force, every quarter with complete cells.

    Columns quarter_start, reference_date (the quarter's last day), numerator (non-Western
    labour force), denominator (all) and value. Without a municipality code the table must hold
    one area, as `sources.employment.fetch` stages it.
    """
    cells = tables[TABLE]
    if municipality_code is None:
        areas = cells["area_code"].unique()
        if len(areas) != 1:
            raise ValueError(f"{TABLE} holds {len(areas)} areas: name the municipality")
        municipality_code = areas[0]
    force = _labour_force(cells, source_config(NAME), municipality_code)
    share = pd.DataFrame(
        {
            "numerator": _of_group(force, "non_western", "labour_force"),
            "denominator": _of_group(force, "all", "labour_force"),
        }
    )
    share = share.dropna().reset_index()
    share.insert(0, "quarter_start", pd.PeriodIndex(pd.to_datetime(share["reference_date"]), freq="Q").start_time.date)
    share["value"] = 100 * share["numerator"] / share["denominator"]
    return share.reset_index(drop=True)


def _labour_force(cells: pd.DataFrame, config: dict[str, Any], municipality_code: str) -> pd.DataFrame:
    """Employed, unemployed and labour force (their sum) aged 16-64, both sexes, per quarter and
    group ('all', 'non_western'). A group's quarter with any missing cell is left out."""
    codes = config["codes"]
    origins = pd.DataFrame(
        [(codes["origin_all"], "all")] + [(code, "non_western") for code in codes["origin_non_western"]],
        columns=["origin", "group_code"],
    )
    statuses = {codes["employed"]: "employed", codes["unemployed"]: "unemployed"}
    chosen = cells[
        (cells["area_code"] == municipality_code)
        & (cells["sex"] == codes["sex_all"])
        & cells["age"].isin(codes["ages"])
        & cells["status"].isin(statuses.keys())
    ]
    # Every fetch restates the whole series: where deliveries overlap, the latest (last) counts.
    chosen = chosen.drop_duplicates(CELL, keep="last").merge(origins, on="origin")
    chosen = chosen.assign(status=chosen["status"].map(statuses))
    totals = chosen.groupby([*QUARTER, "group_code", "status"])["count"].agg(persons="sum", cells="count").reset_index()
    expected_cells = origins.groupby("group_code").size() * len(codes["ages"])
    totals = totals[totals["cells"] == totals["group_code"].map(expected_cells)]
    force = totals.pivot(index=[*QUARTER, "group_code"], columns="status", values="persons")
    force = force.reindex(columns=list(statuses.values())).dropna().reset_index()
    force["labour_force"] = force["employed"] + force["unemployed"]
    return force[force["labour_force"] > 0].reset_index(drop=True)


def _of_group(frame: pd.DataFrame, group_code: str, column: str) -> pd.Series:
    """One group's column indexed by reference date, so two groups subtract date by date."""
    return frame.loc[frame["group_code"] == group_code].set_index("reference_date")[column]
