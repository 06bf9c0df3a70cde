"""Indicator 1.3: the share of public schools whose bilingual share deviates by more than
`deviation_points` from that of the resident children of the school's district, city-wide and
per district (the share of the district's schools that deviate). The unit is schools, so `n`
is NULL.
"""

from __future__ import annotations

import pandas as pd
from barometer.config import source_config
from barometer.config.districts import has_districts
from barometer.transforms.common import compare_with_districts, deviating_share, finish

INDICATORS = ["1.3"]
NAME = "school_enrolment"
SCHOOL = ["reference_date", "school_number"]


def compute(tables: dict[str, pd.DataFrame], municipality_code: str) -> pd.DataFrame:
    config = source_config(NAME)
    schools, pupils = tables["schools"], tables["pupils"]
    if pupils["bilingual"].isna().any():
        raise ValueError("every pupil's bilingual flag is validated J or N")
    if schools.duplicated(SCHOOL).any():
        raise ValueError("one row per school")
    counted = schools[schools["school_type"].isin(config["school_types_counted"])]
    compared = compare_schools(counted, pupils, config["deviation_points"], has_districts(municipality_code))
    return finish(deviating_share(compared, "1.3", municipality_code))


def compare_schools(
    schools: pd.DataFrame, pupils: pd.DataFrame, points: float, by_district: bool = True
) -> pd.DataFrame:
    """One row per school with at least one pupil, compared with the resident children of its
    district (or, without districts, of the whole municipality): every child living there,
    whatever school, if any (a child with no known home district counts for its school only)."""
    compared = compare_with_districts(schools, pupils, pupils, "school_number", "bilingual", points, by_district)
    with_pupils = schools[SCHOOL].merge(pupils[SCHOOL].drop_duplicates(), on=SCHOOL)
    if len(compared) != len(with_pupils):
        raise ValueError("every school's district has resident children")
    return compared
