"""Statistical disclosure control: no published number may reveal fewer than `min_persons` persons.
No library: the cell-suppression tools (τ-Argus, R's sdcTable) are Java and R programs, not Python.

Primary suppression hides every cell with a count below the threshold. Secondary suppression
then hides one more cell wherever a hidden one could be recomputed from published ones: within a
group partition (all = minority + danish) or between the city and its districts (city = sum of
districts + residents with no district). A cell is (indicator, group, area, reference date) and
all its measures share its fate, or 'completed' would reveal what 'value' hides.

Each reference date is decided from its own cells only, in a fixed order, so a date's suppression
never changes when later dates arrive: it is the same in every edition.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from barometer.transforms.common import KEY, NUMERIC, require

CELL = ["indicator_code", "group_code", "area_code", "reference_date"]
STATUSES = {"normal", "provisional", "suppressed"}
# Proposed for config/sources.yaml `disclosure.partitions`: the first group is the total of the
# others. Only groups that add up belong here: 'all' ≠ danish + non_western (Western residents).
DEFAULT_PARTITIONS = (
    ("all", "minority", "danish"),
    ("all", "minority", "majority"),
    ("all", "bilingual", "monolingual"),
)


def suppress(
    observations: pd.DataFrame, min_persons: int, partitions: Sequence[Sequence[str]] = DEFAULT_PARTITIONS
) -> pd.DataFrame:
    """The observations with `obs_status` set and the numbers of every suppressed cell blanked.

    Rows stay (their status says why they are empty). An input status 'suppressed' counts as
    primary, which makes the function idempotent; 'provisional' is kept on published rows.
    `n` NULL means the value is not about persons: such a row is never suppressed on its own.
    """
    _check(observations, min_persons, partitions)
    frame = observations.copy()
    status = frame["obs_status"] if "obs_status" in frame.columns else pd.Series("normal", index=frame.index)
    frame["primary"] = (frame["n"] < min_persons) | (status == "suppressed")
    grouped = frame.groupby(CELL, sort=True)
    cell_of_row = grouped.ngroup().to_numpy()
    # a cell's n is its smallest: the count that decides it and ranks it as a secondary candidate
    cells = grouped.agg(n=("n", "min"), suppressed=("primary", "any")).reset_index()
    members = pd.concat([*_partition_members(cells, partitions), _area_members(cells)], ignore_index=True)
    suppressed = _secondary(cells["suppressed"].to_numpy(), members)[cell_of_row]
    frame = frame.drop(columns="primary")
    frame.loc[suppressed, NUMERIC] = np.nan
    frame["obs_status"] = np.where(suppressed, "suppressed", status)
    return frame


def _check(observations: pd.DataFrame, min_persons: int, partitions: Sequence[Sequence[str]]) -> None:
    require(set(KEY + NUMERIC) <= set(observations.columns), "suppress takes observation frames (OBS_COLUMNS)")
    require(not observations.duplicated(KEY).any(), "observations must be unique per key")
    require(observations[CELL].notna().all().all(), "a cell's key is never null")
    require(min_persons >= 1, "min_persons is a positive count of persons")
    require(all(len(set(p)) == len(p) >= 2 for p in partitions), "a partition is a total and its parts")
    if "obs_status" in observations.columns:
        unknown = set(observations["obs_status"]) - STATUSES
        require(not unknown, f"unknown obs_status {sorted(unknown)}")
    districts = observations["area_code"].str.count("-")
    require(districts.le(1).all(), "an area is a city ('101') or one of its districts ('101-01')")


def _partition_members(cells: pd.DataFrame, partitions: Sequence[Sequence[str]]) -> Iterator[pd.DataFrame]:
    """(set, cell) pairs for every group partition published in full for an indicator, area and date.

    A partition with a member missing gives nothing away: the missing member is unknown too.
    """
    within = ["indicator_code", "area_code", "reference_date"]
    for number, partition in enumerate(partitions):
        members = cells[cells["group_code"].isin(list(partition))]
        members = members[members.groupby(within)["group_code"].transform("size") == len(partition)]
        yield _members(members, f"partition {number}:", within, "group_code")


def _area_members(cells: pd.DataFrame) -> pd.DataFrame:
    """(set, cell) pairs for every city published with its districts, per indicator, group and date.

    Residents with no district make city − other districts only nearly the hidden district: few
    enough to be protected all the same.
    """
    cells = cells.assign(city=cells["area_code"].str.split("-").str[0])
    within = ["indicator_code", "group_code", "reference_date", "city"]
    has_city = (cells["area_code"] == cells["city"]).groupby([cells[k] for k in within]).transform("any")
    return _members(cells[has_city], "area:", within, "area_code")


def _members(cells: pd.DataFrame, kind: str, within: list[str], member: str) -> pd.DataFrame:
    """One row per cell of each set: the set's label, the cell's number, its n and its code."""
    label = kind + cells.groupby(within).ngroup().astype(str)
    return pd.DataFrame({"set": label, "cell": cells.index, "n": cells["n"], "member": cells[member]})


def _secondary(suppressed: np.ndarray, members: pd.DataFrame) -> np.ndarray:
    """Suppressed cells after secondary suppression, iterated until no set leaks.

    A set leaks when exactly one member is hidden: it is the total minus (or the sum of) the
    others. Hiding the smallest published other member (ties: lowest code) closes it with the
    least information lost. Hiding only ever adds, so the loop ends.
    """
    suppressed = suppressed.copy()
    while True:
        hidden = suppressed[members["cell"].to_numpy()]
        leaking = members.assign(hidden=hidden).groupby("set")["hidden"].transform("sum").to_numpy() == 1
        candidates = members[leaking & ~hidden]
        chosen = (
            candidates.sort_values(["set", "n", "member"], na_position="last").drop_duplicates("set")["cell"].to_numpy()
        )
        if len(chosen) == 0:
            return suppressed
        suppressed[chosen] = True
