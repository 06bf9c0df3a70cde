"""Indicators 5.1 and 5.2: the number of safety-index areas whose need for crime prevention is
marked (5.1), or marked or intensified (5.2), each year.

Need levels are thresholds on the index score from configuration; the counts are of areas, not
persons, so `n` stays empty and disclosure control leaves them alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from barometer.config import source_config
from barometer.sources.safety import NAME, TABLES
from barometer.transforms.common import finish, require

INDICATORS = ["5.1", "5.2"]


def compute(tables: dict[str, pd.DataFrame], municipality_code: str) -> pd.DataFrame:
    config = source_config(NAME)
    areas = tables[TABLES[0]]
    require(areas["index"].notna().all(), "every area has an index score before transforming")
    require(not areas.duplicated(["reference_date", "area_id"]).any(), "an area appears once per year")
    area_level = need_level(areas["index"], config["need_levels"])
    level_names = {level["level"] for level in config["need_levels"]}
    parts = []
    for indicator, counted in config["counted_levels"].items():
        require(set(counted) <= level_names, f"{indicator}: counted levels are configured need levels")
        counts = (
            areas.assign(counted=area_level.isin(counted).astype(int))
            .groupby("reference_date", as_index=False)
            .agg(numerator=("counted", "sum"), denominator=("counted", "size"))
        )
        parts.append(counts.assign(indicator_code=indicator, value=counts["numerator"]))
    observations = pd.concat(parts, ignore_index=True)
    return finish(observations.assign(measure="value", group_code="all", area_code=municipality_code))


def need_level(index: pd.Series, levels: list[dict]) -> pd.Series:
    """Each score's level: the first (highest) level whose `min_index` it reaches; the last
    level has no lower bound and takes the rest."""
    bounds = [level["min_index"] for level in levels]
    require(bounds[-1] is None and None not in bounds[:-1], "only the last need level is unbounded")
    require(bounds[:-1] == sorted(bounds[:-1], reverse=True), "need levels run from the highest down")
    names = [level["level"] for level in levels]
    chosen = np.select([index >= bound for bound in bounds[:-1]], names[:-1], default=names[-1])
    return pd.Series(chosen, index=index.index)
