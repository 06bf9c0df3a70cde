"""Synthetic KAS201 for the StatBank stand-in: 2005-2013, quarterly, three areas.

Built top-down so the published figures hold by construction: per area and quarter the labour
force by origin comes from population and participation, the unemployed from a business-cycle
rate for other origins and indicator 2.1's target gap for the non-Western, and only then are
counts split over age bands and sexes (integer splits that keep every total exact). Copenhagen's
2.1 is 13.1 in 2005K3 and 10.8 in 2012K3, declining linearly between; the non-Western share of
its 16-64 labour force is about 11 % in 2010-2012.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from barometer.demo.common import apportion
from barometer.demo.statbank_server import save_table

TABLE = "KAS201"
YEARS = list(range(2005, 2014))
QUARTERS = ["K1", "K2", "K3", "K4"]
AGES = ["16-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60-64"]
SEXES = {"M": "Mænd", "K": "Kvinder"}
STATUSES = {"00": "Beskæftigede", "50": "Arbejdsløse", "55": "Uden for arbejdsstyrken"}
ORIGINS = {
    "1": "Personer med dansk oprindelse",
    "24": "Indvandrere fra vestlige lande",
    "25": "Indvandrere fra ikke-vestlige lande",
    "34": "Efterkommere fra vestlige lande",
    "35": "Efterkommere fra ikke-vestlige lande",
}
NON_WESTERN = np.array([code in ("25", "35") for code in ORIGINS])

# Per area: 16-64 population in 2005 and yearly growth; origin shares of it in 2005 and 2013
# (Danish origin is the rest); how other origins' unemployment and the non-Western gap compare
# with Copenhagen's.
AREAS = {
    "000": {
        "text": "Hele landet",
        "population": 3_530_000,
        "growth": 0.003,
        "shares": {"24": (0.025, 0.035), "25": (0.050, 0.060), "34": (0.003, 0.004), "35": (0.008, 0.013)},
        "cycle": 0.85,
        "gap": 0.85,
    },
    "101": {
        "text": "København",
        "population": 360_000,
        "growth": 0.015,
        "shares": {"24": (0.050, 0.068), "25": (0.102, 0.120), "34": (0.006, 0.008), "35": (0.021, 0.034)},
        "cycle": 1.0,
        "gap": 1.0,
    },
    "147": {
        "text": "Frederiksberg",
        "population": 66_000,
        "growth": 0.008,
        "shares": {"24": (0.055, 0.070), "25": (0.070, 0.085), "34": (0.006, 0.008), "35": (0.012, 0.020)},
        "cycle": 0.8,
        "gap": 0.75,
    },
}
PARTICIPATION = np.array([0.80, 0.66, 0.56, 0.74, 0.62])  # labour force / population, by origin
# Unemployment relative to the group's rate: Danish vs Western among others; immigrants vs descendants.
RELATIVE_RISK = np.array([0.95, 1.30, 1.05, 1.10, 0.85])
# Other origins' unemployment (percent) in the third quarter of each year, and its seasonal swing.
CYCLE = dict(zip(YEARS, [5.2, 4.3, 3.2, 2.6, 4.6, 5.6, 5.5, 5.6, 5.4]))
CYCLE_SEASON = np.array([0.4, 0.1, 0.0, 0.1])
# Indicator 2.1 for Copenhagen: its two published third-quarter values, and the seasonal swing.
GAP_ANCHORS = {(2005, "K3"): 13.1, (2012, "K3"): 10.8}
GAP_SEASON = np.array([0.2, 0.1, 0.0, 0.1])
# Age profile of the employed, unemployed and outside the labour force; men's share of each.
AGE_PROFILE = np.array(
    [
        [2, 9, 15, 15, 13, 12, 11, 10, 8, 5],
        [3, 11, 16, 14, 11, 10, 10, 9, 9, 7],
        [20, 20, 11, 6, 5, 5, 5, 6, 9, 13],
    ],
    dtype=float,
)
MEN_SHARE = np.array([0.52, 0.55, 0.43])


def write_statbank(data_dir: Path, seed: int = 2013) -> None:
    """KAS201's tableinfo and full BULK text (lang=da) into `data_dir`, for the stand-in."""
    counts = _counts(np.random.default_rng(seed))
    save_table(data_dir, _tableinfo(), _bulk(counts))


def _quarter_index() -> tuple[np.ndarray, np.ndarray]:
    """Quarters since 2005K1 and each one's position in its year (0 = K1)."""
    index = np.arange(len(YEARS) * len(QUARTERS))
    return index, index % len(QUARTERS)


def _gap(season: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Copenhagen's 2.1 (percentage points): a straight line through the published values."""
    (start, first), (end, last) = [
        ((year - YEARS[0]) * len(QUARTERS) + QUARTERS.index(quarter), value)
        for (year, quarter), value in GAP_ANCHORS.items()
    ]
    return first + (last - first) * (index - start) / (end - start) + GAP_SEASON[season]


def _cycle(season: np.ndarray, index: np.ndarray) -> np.ndarray:
    anchors = np.array([(year - YEARS[0]) * len(QUARTERS) + QUARTERS.index("K3") for year in CYCLE])
    return np.interp(index, anchors, list(CYCLE.values())) + CYCLE_SEASON[season]


def _area_status(area: dict, index: np.ndarray, season: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Employed, unemployed, outside the labour force: shape (status, quarter, origin)."""
    progress = index / index[-1]
    other_shares = np.array([[start + (end - start) * p for start, end in area["shares"].values()] for p in progress])
    shares = np.column_stack([1 - other_shares.sum(axis=1), other_shares])
    total = area["population"] * (1 + area["growth"]) ** (index / len(QUARTERS))
    population = np.round(total[:, None] * shares * rng.normal(1, 0.002, shares.shape))
    labour_force = np.round(population * PARTICIPATION)
    non_western, others = labour_force[:, NON_WESTERN].sum(axis=1), labour_force[:, ~NON_WESTERN].sum(axis=1)
    other_rate = area["cycle"] * _cycle(season, index) / 100
    # gap = rate_nw - rate_all = (1 - s) (rate_nw - rate_others), s = non-Western share of the force
    share = non_western / (non_western + others)
    non_western_rate = other_rate + area["gap"] * _gap(season, index) / 100 / (1 - share)
    unemployed = np.zeros_like(labour_force)
    for group, rate, force in ((NON_WESTERN, non_western_rate, non_western), (~NON_WESTERN, other_rate, others)):
        unemployed[:, group] = apportion(np.round(rate * force), labour_force[:, group] * RELATIVE_RISK[group])
    return np.stack([labour_force - unemployed, unemployed, population - labour_force])


def _counts(rng: np.random.Generator) -> np.ndarray:
    """Counts in the table's variable order, totals included:
    (area, status, origin, age, sex, quarter, year)."""
    index, season = _quarter_index()
    by_status = np.stack([_area_status(area, index, season, rng) for area in AREAS.values()])
    sex_weights = np.stack([MEN_SHARE, 1 - MEN_SHARE], axis=-1)  # (status, sex)
    weights = (AGE_PROFILE[:, :, None] * sex_weights[:, None, :]).reshape(len(STATUSES), 1, 1, -1)
    noisy = weights * np.exp(rng.normal(0, 0.05, by_status.shape + (weights.shape[-1],)))
    cells = apportion(by_status, noisy).reshape(by_status.shape + (len(AGES), len(SEXES)))
    cells = cells.transpose(0, 1, 3, 4, 5, 2)  # (area, status, origin, age, sex, quarter)
    for axis in range(1, 5):
        cells = np.concatenate([cells.sum(axis=axis, keepdims=True), cells], axis=axis)
    return cells.reshape(cells.shape[:-1] + (len(YEARS), len(QUARTERS))).swapaxes(-1, -2)


def _variables() -> list[dict]:
    """tableinfo's variables, totals first as in StatBank; the order of the BULK columns."""

    def values(codes: dict[str, str]) -> list[dict[str, str]]:
        return [{"id": code, "text": text} for code, text in codes.items()]

    return [
        {
            "id": "OMRÅDE",
            "text": "område",
            "elimination": True,
            "time": False,
            "values": values({code: area["text"] for code, area in AREAS.items()}),
        },
        {
            "id": "SOCIO",
            "text": "socioøkonomisk status",
            "elimination": True,
            "time": False,
            "values": values({"TOT": "I alt", **STATUSES}),
        },
        {
            "id": "HERKOMST",
            "text": "herkomst",
            "elimination": True,
            "time": False,
            "values": values({"TOT": "I alt", **ORIGINS}),
        },
        {
            "id": "ALDER",
            "text": "alder",
            "elimination": True,
            "time": False,
            "values": values({"TOT": "Alder i alt", **{age: f"{age} år" for age in AGES}}),
        },
        {"id": "KØN", "text": "køn", "elimination": True, "time": False, "values": values({"TOT": "I alt", **SEXES})},
        {
            "id": "PERIODE",
            "text": "periode",
            "elimination": False,
            "time": False,
            "values": values({quarter: f"{quarter[1]}. kvartal" for quarter in QUARTERS}),
        },
        {
            "id": "Tid",
            "text": "tid",
            "elimination": False,
            "time": True,
            "values": values({str(year): str(year) for year in YEARS}),
        },
    ]


def _tableinfo() -> dict:
    return {
        "id": TABLE,
        "text": "Befolkningen (16-64 år) efter område, socioøkonomisk status, herkomst, alder, køn, periode og tid",
        "description": "Befolkningen (16-64 år) efter område, socioøkonomisk status, herkomst, "
        "alder, køn, periode og tid (syntetiske demodata)",
        "unit": "Antal",
        "suppressedDataValue": "0",
        "updated": f"{YEARS[-1] + 1}-03-20T08:00:00",
        "active": True,
        "contacts": [{"name": "Arbejdsmarked (demo)", "phone": "", "mail": "demo@example.invalid"}],
        "footnote": {"text": "Syntetiske data til barometerets demo; ikke Danmarks Statistiks tal.", "mandatory": True},
        "variables": _variables(),
    }


def _bulk(counts: np.ndarray) -> str:
    """The full table as BULK text: header of variable ids (upper case, as the API writes
    them) then INDHOLD, one row per cell in the table's variable order."""
    variables = _variables()
    levels = [[value["id"] for value in variable["values"]] for variable in variables]
    frame = pd.MultiIndex.from_product(levels).to_frame(index=False)
    frame.columns = [variable["id"].upper() for variable in variables]
    frame["INDHOLD"] = counts.astype(np.int64).ravel()
    return frame.to_csv(sep=";", index=False, lineterminator="\n")
