"""Indicator 1.2: share of 15-19 year-olds who have completed or are enrolled in a youth
education, for Danish-origin and non-Western residents, city-wide and per district."""

from __future__ import annotations

import pandas as pd
from barometer.config import source_config
from barometer.sources.youth_education import COMPLETED, ENROLLED, NAME
from barometer.transforms.common import counted_cells, finish, share_observations

INDICATORS = ["1.2"]
GROUPS = {"danish": ["danish"], "non_western": ["non_western"]}
# measure -> the statuses counted in its numerator
MEASURES = {"value": [COMPLETED, ENROLLED], "completed": [COMPLETED], "enrolled": [ENROLLED]}


def compute(tables: dict[str, pd.DataFrame], municipality_code: str) -> pd.DataFrame:
    persons = tables["youth_education"]
    low, high = source_config(NAME)["ages"]
    if persons["age"].isna().any():
        raise ValueError("ages are derived for every person before transforming")
    cohort = persons[persons["age"].between(low, high)]
    parts = []
    for measure, statuses in MEASURES.items():
        cells = counted_cells(cohort, cohort["status"].isin(statuses), "origin_group", GROUPS)
        parts.append(share_observations(cells, "1.2", municipality_code, measure=measure))
    return finish(pd.concat(parts, ignore_index=True))
