"""Indicator 2.1, excess unemployment of non-Western residents, and the labour-force share that
indicator 3.1 compares municipal staff with. Both come from StatBank's 16-64 year-olds, each
period from the table config/sources.yaml assigns its year to (RAS201 annual, KAS201 quarterly),
its groups summed from the codes the table has."""

from __future__ import annotations

from typing import Any

import pandas as pd
from barometer.config import source_config
from barometer.sources.employment import CELL, NAME, STATUSES, TABLES, table_configs
from barometer.transforms.common import finish

INDICATORS = ["2.1"]
TABLE = TABLES[0]
PERIOD = ["table", "period", "reference_date"]


def compute(tables: dict[str, pd.DataFrame], municipality_code: str) -> pd.DataFrame:
    """Per half-year (a quarterly table's configured quarter, an annual table's one value): both
    groups' unemployment rates and, as the headline, non-Western minus all in percentage points
    over the non-Western labour force."""
    force = _labour_force(tables[TABLE], municipality_code)
    quarter = force["period"].str.slice(4)
    half_year = force[(quarter == "") | quarter.isin(source_config(NAME)["half_year_quarter"].values())]
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
    """Non-Western share (percent) of the 16-64 labour force for every quarter a table covers.

    Columns quarter_start, reference_date (the value's own date), numerator (non-Western labour
    force), denominator (all) and value. A quarterly table gives each quarter its own value; an
    annual table's value (RAS201: end of November) stands for each quarter of its year. Without
    a municipality code the table must hold one area.
    """
    cells = tables[TABLE]
    if municipality_code is None:
        areas = cells["area_code"].unique()
        if len(areas) != 1:
            raise ValueError(f"{TABLE} holds {len(areas)} areas: name the municipality")
        municipality_code = areas[0]
    force = _labour_force(cells, municipality_code)
    share = pd.DataFrame(
        {
            "numerator": _of_group(force, "non_western", "labour_force"),
            "denominator": _of_group(force, "all", "labour_force"),
        }
    )
    share = share.dropna().reset_index()
    periods = force.drop_duplicates("reference_date").set_index("reference_date")["period"]
    share["quarter_start"] = share["reference_date"].map(periods).map(_quarter_starts)
    share = share.explode("quarter_start")
    share["value"] = 100 * share["numerator"] / share["denominator"]
    share = share.sort_values("quarter_start")
    return share[["quarter_start", "reference_date", "numerator", "denominator", "value"]].reset_index(drop=True)


def _quarter_starts(period: str) -> list:
    """The first days of the quarters a period stands for: '2012K3' one, '2012' its four."""
    year = int(period[:4])
    quarters = [int(period[5:])] if len(period) > 4 else [1, 2, 3, 4]
    return [pd.Period(year=year, quarter=quarter, freq="Q").start_time.date() for quarter in quarters]


def _labour_force(cells: pd.DataFrame, municipality_code: str) -> pd.DataFrame:
    """Employed, unemployed and labour force (their sum) aged 16-64, both sexes, per period and
    group ('all', 'non_western'), each table's groups summed from its own codes. A group's
    period with any missing cell is left out."""
    chosen = cells[(cells["area_code"] == municipality_code) & cells["status"].isin(STATUSES)]
    # Every fetch restates the whole series: where deliveries overlap, the latest (last) counts.
    chosen = chosen.drop_duplicates(CELL, keep="last")
    groups = [_groups(chosen, config) for config in table_configs()]
    totals = pd.concat(groups, ignore_index=True)
    force = totals.pivot(index=[*PERIOD, "group_code"], columns="status", values="persons")
    force = force.reindex(columns=STATUSES).dropna().reset_index()
    force["labour_force"] = force["employed"] + force["unemployed"]
    return force[force["labour_force"] > 0].reset_index(drop=True)


def _groups(cells: pd.DataFrame, config: dict[str, Any]) -> pd.DataFrame:
    """One table's persons per period, group and status: the sum over the group's origin codes,
    the configured sexes and the ten age bands, kept only where every such cell has a count."""
    members = pd.DataFrame(
        [(code, group) for group, codes in config["origin"].items() for code in codes],
        columns=["origin", "group_code"],
    )
    own = cells[(cells["table"] == config["table"]) & cells["age"].isin(config["ages"])]
    own = own[own["sex"].isin(config["sexes"])].merge(members, on="origin")
    totals = own.groupby([*PERIOD, "group_code", "status"])["count"].agg(persons="sum", cells="count").reset_index()
    expected = members.groupby("group_code").size() * len(config["ages"]) * len(config["sexes"])
    return totals[totals["cells"] == totals["group_code"].map(expected)]


def _of_group(frame: pd.DataFrame, group_code: str, column: str) -> pd.Series:
    """One group's column indexed by reference date, so two groups subtract date by date."""
    return frame.loc[frame["group_code"] == group_code].set_index("reference_date")[column]
