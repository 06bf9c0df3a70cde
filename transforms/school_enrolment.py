"""Indicator 1.3: the share of public schools whose bilingual share deviates by more than
`deviation_points` from that of the resident children of the school's district, city-wide and
per district (the share of the district's schools that deviate). The unit is schools, so `n`
is NULL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from config import source_config
from transforms.common import finish, share_observations

INDICATORS = ["1.3"]
NAME = "school_enrolment"
COUNTS = {"children": ("bilingual", "size"), "bilingual": ("bilingual", "sum")}  # per school or district


def compute(tables: dict[str, pd.DataFrame], municipality_code: str) -> pd.DataFrame:
    config = source_config(NAME)
    schools, pupils = tables["schools"], tables["pupils"]
    assert pupils["bilingual"].notna().all(), "every pupil's bilingual flag is validated J or N"
    assert not schools.duplicated(["reference_date", "school_number"]).any(), "one row per school"
    compared = compare_schools(schools[schools["school_type"].isin(config["school_types_counted"])],
                               pupils, config["deviation_points"])
    cells = compared.assign(numerator=compared["deviates"].astype(int), denominator=1, group_code="all")
    observations = share_observations(cells, "1.3", municipality_code).assign(n=np.nan)
    return finish(observations)


def compare_schools(schools: pd.DataFrame, pupils: pd.DataFrame, points: float) -> pd.DataFrame:
    """One row per school with at least one pupil: its counts, its district's resident counts
    (every child living there, whatever school, if any; a child with no known home district
    counts for its school only) and whether the two bilingual shares differ by more than
    `points` percentage points.

    The comparison is cross-multiplied in integers, so a difference of exactly `points` is
    never tipped over the threshold by floating point.
    """
    enrolled = pupils.dropna(subset=["school_number"]).groupby(
        ["reference_date", "school_number"], as_index=False).agg(**COUNTS)
    residents = pupils.dropna(subset=["district"]).groupby(
        ["reference_date", "district"], as_index=False).agg(**COUNTS)
    compared = (schools[["reference_date", "school_number", "district"]]
                .merge(enrolled, on=["reference_date", "school_number"], how="inner")
                .merge(residents, on=["reference_date", "district"], how="left",
                       suffixes=("", "_in_district")))
    assert compared["children_in_district"].notna().all(), "every school's district has resident children"
    gap = (compared["bilingual"] * compared["children_in_district"]
           - compared["bilingual_in_district"] * compared["children"]).abs()
    compared["deviates"] = 100 * gap > points * compared["children"] * compared["children_in_district"]
    return compared
