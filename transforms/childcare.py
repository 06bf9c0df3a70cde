"""Indicators 4.1-4.3 (minority children's use of kindergarten, after-school care and youth
clubs), twice a year, and 1.4 (day-care institutions whose minority share deviates from their
district's), from the deliveries of the configured `deviation_months` only (November).

'Minority' here is every origin other than Danish, Western included, so minority + danish = all.
"""

from __future__ import annotations

import pandas as pd
from barometer.config import source_config
from barometer.config.districts import has_districts
from barometer.transforms.common import (
    compare_with_districts,
    counted_cells,
    deviating_share,
    finish,
    in_dtypes_of,
    require,
    share_observations,
)

INDICATORS = ["1.4", "4.1", "4.2", "4.3"]
GROUPS = {"danish": ["danish", "all"], "western": ["minority", "all"], "non_western": ["minority", "all"]}
DEVIATION = "1.4"


def compute(tables: dict[str, pd.DataFrame], municipality_code: str) -> pd.DataFrame:
    config = source_config("childcare")
    children = with_institution_type(tables["children"], tables["institutions"])
    parts = [
        service_use(children, code, service["types"], service["ages"], municipality_code)
        for code, service in config["services"].items()
    ]
    in_deviation_months = pd.to_datetime(children["reference_date"]).dt.month.isin(config["deviation_months"])
    compared = compare_institutions(
        children[in_deviation_months], tables["institutions"], config, has_districts(municipality_code)
    )
    parts.append(deviating_share(compared, DEVIATION, municipality_code))
    return finish(pd.concat(parts, ignore_index=True))


def with_institution_type(children: pd.DataFrame, institutions: pd.DataFrame) -> pd.DataFrame:
    """Each child with the type of the institution they attend (<NA>: none) on the same date."""
    key = ["reference_date", "institution_id"]
    require(not institutions.duplicated(key).any(), "one row per institution and reference date")
    require(children["age"].notna().all(), "ages are derived for every child before transforming")
    require(children["origin_group"].notna().all(), "origins are validated before transforming")
    types = in_dtypes_of(children, institutions[key + ["type"]], key).astype({"type": "category"})
    return children.merge(types, on=key, how="left", validate="many_to_one")


def service_use(
    children: pd.DataFrame, indicator: str, types: list[str], ages: list[int], municipality_code: str
) -> pd.DataFrame:
    """Share of the band's resident children enrolled in one of the service's types."""
    low, high = ages
    band = children[children["age"].between(low, high)]
    cells = counted_cells(band, band["type"].isin(types), "origin_group", GROUPS)
    return share_observations(cells, indicator, municipality_code)


def compare_institutions(
    children: pd.DataFrame, institutions: pd.DataFrame, config: dict, by_district: bool = True
) -> pd.DataFrame:
    """One row per day-care institution with at least one child (of any age), compared with the
    resident children of `daycare_ages` in its district (or, without districts, the whole
    municipality), wherever enrolled, by non-Danish share."""
    low, high = config["daycare_ages"]
    flagged = children.assign(non_danish=children["origin_group"] != "danish")
    daycare = institutions[institutions["type"].isin(config["daycare_types"])]
    return compare_with_districts(
        daycare,
        flagged,
        flagged[flagged["age"].between(low, high)],
        "institution_id",
        "non_danish",
        config["deviation_points"],
        by_district,
    )
