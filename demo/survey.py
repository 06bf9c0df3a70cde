"""Synthetic inclusion-survey deliveries, one a year: the 2010 survey (interviews January-February
2011, the baseline), then the autumn surveys of 2011, 2012 and 2013, about 2,000 respondents each.

Calibrated by construction. Respondents come in post-stratification cells of 27 that share one
weight, and every cell of a group holds the same counts: 25 respondents with an index score
whose mean is the group's target (within 0.1), 20 (minority) or 25 (majority) yes/no answers to
the discrimination item with the target number of yes (exact in 2012; other years carry the
fraction at random). A weighted mean over such cells equals the cell mean whatever the weights,
so the group values are hit; the weights only decide 'all'. Minority cells carry 1/7 of the weight:
6.1 'all' = (68 + 6·75)/7 = 74 and, with
20 against 25 yes/no answers per cell, the minority's weight share among yes/no answerers is
20/(20 + 6·25) = 2/17, so 8.1 'all' = (2·25 + 15·8)/17 = 10.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from barometer.config import source_config
from barometer.demo.common import COPENHAGEN, apportion, landing_folder, spell
from barometer.sources.survey import NAME, SPEC


@dataclass(frozen=True)
class Survey:
    first_interview: date
    last_interview: date
    index: dict[str, float]  # 6.1 target per group
    discrimination: dict[str, float]  # 8.1 target per group, percent
    file_name: str


SURVEYS = [
    Survey(
        date(2011, 1, 10),
        date(2011, 2, 25),
        {"minoritet": 65, "majoritet": 73},
        {"minoritet": 28, "majoritet": 9},
        "inklusionsundersøgelse_data.csv",
    ),
    Survey(
        date(2011, 10, 3),
        date(2011, 11, 25),
        {"minoritet": 66, "majoritet": 74},
        {"minoritet": 27, "majoritet": 9},
        "KK_besvarelser_endelig.csv",
    ),
    Survey(
        date(2012, 10, 1),
        date(2012, 11, 23),
        {"minoritet": 68, "majoritet": 75},
        {"minoritet": 25, "majoritet": 8},
        "datasæt levering.csv",
    ),
    Survey(
        date(2013, 9, 30),
        date(2013, 11, 22),
        {"minoritet": 69, "majoritet": 75},
        {"minoritet": 23, "majoritet": 8},
        "export (2).csv",
    ),
]
CELL_SIZE = 27
SCORED_PER_CELL = 25
CELLS = {"minoritet": 19, "majoritet": 56}  # 513 + 1,512 respondents: 25 % minority
YES_NO_PER_CELL = {"minoritet": 20, "majoritet": 25}
MAJORITY_WEIGHT_RATIO = 6  # majority cells carry 6 times the minority cells' weight
WEIGHT_RANGE = {"minoritet": (0.3, 1.3), "majoritet": (0.5, 2.9)}
WEIGHT_DECIMALS = 4
ANSWERED_ITEMS = ([5, 4, 3], [0.8, 0.14, 0.06])  # items answered by a scored respondent, and how often
SCORE_SPREAD = 0.7  # standard deviation of a respondent's item points, per item answered
DISTRICT_SHARES = {
    "minoritet": [0.06, 0.07, 0.19, 0.12, 0.09, 0.04, 0.09, 0.15, 0.07, 0.12],
    "majoritet": [0.09, 0.15, 0.13, 0.12, 0.09, 0.08, 0.07, 0.08, 0.10, 0.09],
}
NO_DISTRICT_SHARE = 0.04


def write(
    landing: Path,
    seed: int = 2013,
    size: float = 1.0,
    *,
    municipality: str = COPENHAGEN,
    surveys: list[Survey] = SURVEYS,
) -> None:
    """One file per survey; `size` multiplies the post-stratification cells (benchmarks).
    Another municipality's `surveys` give it its own targets; its district cells are empty."""
    rng = np.random.default_rng(seed)
    config = source_config(NAME)
    folder = landing_folder(landing, NAME)
    cells = {group: max(1, round(count * size)) for group, count in CELLS.items()}
    for survey in surveys:
        path = folder / survey.file_name
        _respondents(survey, config, cells, rng, municipality).to_csv(
            path, sep=SPEC.format.separator, index=False, encoding=SPEC.format.encoding
        )
        delivered = datetime.combine(survey.last_interview, datetime.min.time()).timestamp() + 14 * 86400
        os.utime(path, (delivered, delivered))  # deliveries arrive in survey order


def _respondents(
    survey: Survey, config: dict, cell_counts: dict[str, int], rng: np.random.Generator, municipality: str
) -> pd.DataFrame:
    """The survey's respondents, cell by cell, then shuffled."""
    cells = _cells(survey, cell_counts, rng)
    people = cells.loc[cells.index.repeat(CELL_SIZE)].reset_index(names="cell")
    scored = people.groupby("cell").cumcount().to_numpy() < SCORED_PER_CELL
    frame = pd.concat(
        [
            people[["vaegt", "gruppe"]],
            _index_answers(people, scored, config, rng),
            _discrimination_answers(people, config, rng),
        ],
        axis=1,
    )
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frame.insert(0, "respondent_id", rng.choice(np.arange(100_000, 1_000_000), len(frame), replace=False))
    frame.insert(1, "interviewdato", _interview_dates(survey, len(frame), rng))
    frame.insert(4, "bydel", _districts(frame["gruppe"], rng, municipality))
    return frame[SPEC.table(NAME).headers]


def _cells(survey: Survey, cell_counts: dict[str, int], rng: np.random.Generator) -> pd.DataFrame:
    """One row per post-stratification cell: group, weight, index target and yes/no counts.
    The yes count is the target share of the cell's yes/no answers, its fraction carried at random."""
    weights = _cell_weights(cell_counts, rng)
    cells = pd.DataFrame(
        [(group, weight) for group, group_weights in weights.items() for weight in group_weights],
        columns=["gruppe", "vaegt"],
    )
    cells["target"] = cells["gruppe"].map(survey.index)
    cells["yes_no"] = cells["gruppe"].map(YES_NO_PER_CELL)
    exact = cells["gruppe"].map(survey.discrimination) * cells["yes_no"] / 100
    cells["yes"] = np.floor(exact).astype(int) + (rng.random(len(cells)) < exact % 1)
    return cells


def _cell_weights(cell_counts: dict[str, int], rng: np.random.Generator) -> dict[str, list[str]]:
    """Each cell's weight as delivered ('1,2345'); majority cells sum to exactly
    MAJORITY_WEIGHT_RATIO times the minority cells (in units of the last decimal)."""
    unit = 10**WEIGHT_DECIMALS
    minority = np.round(rng.uniform(*WEIGHT_RANGE["minoritet"], cell_counts["minoritet"]) * unit).astype(int)
    target = MAJORITY_WEIGHT_RATIO * minority.sum()
    majority = apportion(target, rng.uniform(*WEIGHT_RANGE["majoritet"], cell_counts["majoritet"]))
    return {"minoritet": _decimal_comma(minority), "majoritet": _decimal_comma(majority)}


def _decimal_comma(units: np.ndarray) -> list[str]:
    """Weights in units of the last decimal as the contractor writes them: 12345 -> '1,2345'."""
    unit = 10**WEIGHT_DECIMALS
    return [f"{u // unit},{u % unit:0{WEIGHT_DECIMALS}d}" for u in units]


def _index_answers(people: pd.DataFrame, scored: np.ndarray, config: dict, rng: np.random.Generator) -> pd.DataFrame:
    """Index item codes: scored respondents answer enough items, with points calibrated so each
    cell's mean score is its target; the others answer too few items to get a score."""
    low, high = config["answer_scale"]
    steps = high - low
    items = config["index_items"]
    answered = np.where(
        scored,
        rng.choice(ANSWERED_ITEMS[0], size=len(people), p=ANSWERED_ITEMS[1]),
        rng.integers(0, config["min_items_answered"], len(people)),
    )
    target = people["target"].to_numpy()
    points = np.round(answered * steps * target / 100 + rng.normal(0, SCORE_SPREAD * answered)).astype(int)
    points = np.clip(points, 0, answered * steps)
    for cell in np.unique(people["cell"]):
        members = np.flatnonzero(scored & (people["cell"].to_numpy() == cell))
        points[members] = _calibrated(points[members], answered[members], len(items), steps, target[members[0]], rng)
    item_points = _spread_over_items(points, answered, len(items), steps, rng)
    values = low + item_points
    for item in config["reversed_items"]:  # reversed items score high for low codes
        values[:, items.index(item)] = high - item_points[:, items.index(item)]
    unanswered = _not_answered(item_points.size, config, rng).reshape(item_points.shape)
    return pd.DataFrame(np.where(item_points >= 0, values.astype(str), unanswered), columns=items)


def _calibrated(
    points: np.ndarray, answered: np.ndarray, items: int, steps: int, target: float, rng: np.random.Generator
) -> np.ndarray:
    """Points moved one at a time on respondents who answered every item until the cell's score
    total is within half such a move of the target total (mean within 0.1 for 25 respondents)."""
    points = points.copy()
    full = answered == items
    step = 100 / (items * steps)
    moves = int(round((target * len(points) - (100 * points / (answered * steps)).sum()) / step))
    while moves:
        direction = int(np.sign(moves))
        room = np.flatnonzero(full & (points + direction >= 0) & (points + direction <= items * steps))
        chosen = rng.choice(room, size=min(abs(moves), len(room)), replace=False)
        points[chosen] += direction
        moves -= direction * len(chosen)
    return points


def _spread_over_items(
    points: np.ndarray, answered: np.ndarray, items: int, steps: int, rng: np.random.Generator
) -> np.ndarray:
    """Each respondent's points over `answered` random items (each 0..steps), -1 for the rest:
    the points fall on random slots, `steps` slots per answered item."""
    order = rng.random((len(points), items)).argsort(axis=1).argsort(axis=1)
    is_answered = order < answered[:, None]
    slot_keys = np.where(np.repeat(is_answered, steps, axis=1), rng.random((len(points), items * steps)), 2.0)
    chosen = slot_keys.argsort(axis=1).argsort(axis=1) < points[:, None]
    per_item = chosen.reshape(len(points), items, steps).sum(axis=2)
    return np.where(is_answered, per_item, -1)


def _discrimination_answers(people: pd.DataFrame, config: dict, rng: np.random.Generator) -> pd.Series:
    """Per cell: `yes` yes answers, up to `yes_no` no answers, the others don't know or empty."""
    place = pd.Series(rng.random(len(people))).groupby(people["cell"]).rank(method="first").to_numpy() - 1
    answers = np.select(
        [place < people["yes"], place < people["yes_no"]],
        [str(config["discrimination_yes"]), str(config["discrimination_no"])],
        default="",
    )
    missing = answers == ""
    answers[missing] = _not_answered(missing.sum(), config, rng)
    return pd.Series(answers, name=config["discrimination_item"])


def _not_answered(count: int, config: dict, rng: np.random.Generator) -> np.ndarray:
    """Don't know (9) or left empty, at random."""
    return np.where(rng.random(count) < 0.5, str(config["dont_know"]), "")


def _interview_dates(survey: Survey, count: int, rng: np.random.Generator) -> pd.Index:
    days = (survey.last_interview - survey.first_interview).days
    offsets = rng.integers(0, days + 1, count)
    offsets[rng.integers(count)] = days  # someone is interviewed on the last day
    return (pd.Timestamp(survey.first_interview) + pd.to_timedelta(offsets, unit="D")).strftime("%Y-%m-%d")


def _districts(groups: pd.Series, rng: np.random.Generator, municipality: str) -> pd.Series:
    """District names as respondents' addresses were coded: spelled several ways, some empty."""
    numbers = pd.Series(0, index=groups.index)
    for group, shares in DISTRICT_SHARES.items():
        members = groups == group
        numbers[members] = rng.choice(np.arange(1, 11), size=members.sum(), p=shares)
    numbers[rng.random(len(groups)) < NO_DISTRICT_SHARE] = 0
    return pd.Series(spell(numbers, rng, municipality=municipality), index=groups.index)
