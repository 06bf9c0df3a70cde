"""Indicators 4.1-4.3 (minority children's use of kindergarten, after-school care and youth
clubs) and 1.4 (day-care institutions whose minority share deviates from their district's).

'Minority' here is every origin other than Danish, Western included, so minority + danish = all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from config import source_config
from transforms.common import expand_groups, finish, share_observations

INDICATORS = ["1.4", "4.1", "4.2", "4.3"]
GROUPS = {"danish": ["danish", "all"], "western": ["minority", "all"], "non_western": ["minority", "all"]}
DEVIATION = "1.4"
COUNTS = {"children": ("non_danish", "size"), "non_danish": ("non_danish", "sum")}  # per institution or district


def compute(tables: dict[str, pd.DataFrame], municipality_code: str) -> pd.DataFrame:
    config = source_config("childcare")
    children = with_institution_type(tables["children"], tables["institutions"])
    parts = [service_use(children, code, service["types"], service["ages"], municipality_code)
             for code, service in config["services"].items()]
    parts.append(deviating_institutions(children, tables["institutions"], config, municipality_code))
    return finish(pd.concat(parts, ignore_index=True))


def with_institution_type(children: pd.DataFrame, institutions: pd.DataFrame) -> pd.DataFrame:
    """Each child with the type of the institution they attend (<NA>: none) on the same date."""
    key = ["reference_date", "institution_id"]
    assert not institutions.duplicated(key).any(), "one row per institution and reference date"
    assert children["age"].notna().all(), "ages are derived for every child before transforming"
    assert children["origin_group"].notna().all(), "origins are validated before transforming"
    types = institutions[key + ["type"]]
    return children.merge(types, on=key, how="left", validate="many_to_one")


def service_use(children: pd.DataFrame, indicator: str, types: list[str], ages: list[int],
                municipality_code: str) -> pd.DataFrame:
    """Share of the band's resident children enrolled in one of the service's types."""
    low, high = ages
    band = expand_groups(children[children["age"].between(low, high)], "origin_group", GROUPS)
    cells = band.assign(numerator=band["type"].isin(types).astype(int), denominator=1)
    return share_observations(cells, indicator, municipality_code)


def deviating_institutions(children: pd.DataFrame, institutions: pd.DataFrame, config: dict,
                           municipality_code: str) -> pd.DataFrame:
    """Share of day-care institutions that deviate, city-wide and per district (the institution's
    own). The unit is institutions, so `n` stays empty."""
    compared = compare_institutions(children, institutions, config)
    cells = compared.assign(group_code="all", numerator=compared["deviates"].astype(int), denominator=1)
    return share_observations(cells, DEVIATION, municipality_code).assign(n=np.nan)


def compare_institutions(children: pd.DataFrame, institutions: pd.DataFrame, config: dict) -> pd.DataFrame:
    """One row per day-care institution with at least one child: its counts (children of any
    age), its district's counts (resident children of `daycare_ages`, wherever enrolled) and
    whether the two non-Danish shares differ by more than `deviation_points` points.

    An institution whose district has no resident children of those ages has nothing to deviate
    from and is left out. The comparison is cross-multiplied in integers, so a difference of
    exactly the threshold is never tipped over it by floating point.
    """
    key = ["reference_date", "institution_id"]
    flagged = children.assign(non_danish=(children["origin_group"] != "danish").astype(int))
    enrolled = flagged[flagged["type"].isin(config["daycare_types"])].groupby(key, as_index=False).agg(**COUNTS)
    low, high = config["daycare_ages"]
    residents = (flagged[flagged["age"].between(low, high)].dropna(subset=["district"])
                 .groupby(["reference_date", "district"], as_index=False).agg(**COUNTS))
    compared = (enrolled.merge(institutions[key + ["district"]], on=key, how="left", validate="one_to_one")
                .merge(residents, on=["reference_date", "district"], how="inner", suffixes=("", "_in_district")))
    gap = (compared["non_danish"] * compared["children_in_district"]
           - compared["non_danish_in_district"] * compared["children"]).abs()
    both = compared["children"] * compared["children_in_district"]
    compared["deviates"] = 100 * gap > config["deviation_points"] * both
    return compared
