"""Indicators 3.1 and 3.2: the non-Western share of the municipality's staff against the city's
labour force (3.1), and of its managers (3.2). Employees of unknown origin ('uoplyst') count in
neither numerator nor denominator.

3.1 needs the employment source's labour force for the quarter containing the extract's date;
without the `employment` table (employment failed or not fetched) only 3.2 is computed.
"""

from __future__ import annotations

import pandas as pd
from barometer.sources.employment import TABLES as EMPLOYMENT_TABLES
from barometer.sources.workforce import TABLES
from barometer.transforms.common import finish, require, share_observations

INDICATORS = ["3.1", "3.2"]
GROUP = "non_western"
EMPLOYMENT_TABLE = EMPLOYMENT_TABLES[0]


def compute(tables: dict[str, pd.DataFrame], municipality_code: str) -> pd.DataFrame:
    cells = origin_cells(tables[TABLES[0]])
    parts = [share_observations(cells[cells["is_manager"]], "3.2", municipality_code, districts=False)]
    if EMPLOYMENT_TABLE in tables:
        from barometer.transforms.employment import labour_force_share  # only 3.1 depends on employment

        employee_share = share_observations(cells, "3.1", municipality_code, measure="employee_share", districts=False)
        parts.append(relative_to_labour_force(employee_share, labour_force_share(tables, municipality_code)))
    return finish(pd.concat(parts, ignore_index=True))


def origin_cells(employees: pd.DataFrame) -> pd.DataFrame:
    """One row per employee of known origin, counting 1 in the numerator if non-Western."""
    known = employees[employees["origin_group"].notna()]
    return pd.DataFrame(
        {
            "reference_date": known["reference_date"],
            "group_code": GROUP,
            "district": pd.NA,  # the extract has no district: city-wide only
            "is_manager": known["is_manager"],
            "numerator": (known["origin_group"] == GROUP).astype(int),
            "denominator": 1,
        }
    )


def relative_to_labour_force(employee_share: pd.DataFrame, labour_force: pd.DataFrame) -> pd.DataFrame:
    """3.1's measures per extract: the employee share, the labour-force share of the quarter that
    contains the extract's date, and their difference in percentage points (the headline).

    The labour-force share is a published aggregate, so its `n` stays empty; the headline's `n`
    is the employees of known origin. An extract whose quarter has no labour force is left out.
    """
    require(labour_force["quarter_start"].is_unique, "one labour-force share per quarter")
    force = labour_force.assign(quarter_start=pd.to_datetime(labour_force["quarter_start"]))
    quarter = pd.to_datetime(employee_share["reference_date"]).dt.to_period("Q").dt.start_time
    matched = employee_share.assign(quarter_start=quarter).merge(
        force[["quarter_start", "numerator", "denominator", "value"]], on="quarter_start", suffixes=("", "_force")
    )
    headline = matched.assign(
        measure="value",
        value=matched["value"] - matched["value_force"],
        numerator=float("nan"),
        denominator=float("nan"),
    )
    force_share = matched.assign(
        measure="labour_force_share",
        value=matched["value_force"],
        numerator=matched["numerator_force"],
        denominator=matched["denominator_force"],
        n=float("nan"),
    )
    return pd.concat([headline, matched, force_share], ignore_index=True)
