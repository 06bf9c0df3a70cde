"""Synthetic RAS201 and KAS201 for the StatBank stand-in, in the real tables' shapes and years:
RAS201 (annual, status at the end of November, 2008-2016; Danish origin 999, no totals) and
KAS201 (quarterly, from 2017; totals TOT, PERIODE K1-K4 and 1 for the whole year), for every
municipality in config/municipalities.csv and 000, all Denmark, the sum of them all.

Built top-down so the published figures hold by construction: per municipality and quarter of
one synthetic history (2005-2018) the labour force by origin comes from population and
participation, the unemployed from a business-cycle rate for other origins and indicator 2.1's
target gap for the non-Western, and only then are counts split over age bands and sexes
(integer splits that keep every total exact). RAS201's year is the history's fourth quarter
(which holds 30 November). Copenhagen's 2.1 runs straight from 13.1 in September 2005 to 10.8
in November 2012 (the value its 2012-S2 edition publishes) and on; the non-Western share of its
16-64 labour force is about 11 % in 2010-2012. Every municipality draws its noise from its own
generator, so Copenhagen's figures do not depend on how many others there are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from barometer.config.municipalities import ALL_DENMARK, municipalities
from barometer.demo.common import COPENHAGEN, apportion
from barometer.demo.statbank_server import save_table

HISTORY = list(range(2005, 2019))  # the synthetic history's years, quarter by quarter
RAS201_YEARS = list(range(2008, 2017))  # as in StatBank: RAS201 2008-2016, KAS201 from 2017
KAS201_YEARS = [2017]
QUARTERS = ["K1", "K2", "K3", "K4"]
NOVEMBER = QUARTERS.index("K4")
AGES = ["16-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60-64"]
SEXES = {"M": "Mænd", "K": "Kvinder"}
STATUSES = ["employed", "unemployed", "outside"]
ORIGINS = ["danish", "24", "25", "34", "35"]
NON_WESTERN = np.array([code in ("25", "35") for code in ORIGINS])
ORIGIN_TEXTS = {
    "24": "Indvandrere fra vestlige lande",
    "25": "Indvandrere fra ikke-vestlige lande",
    "34": "Efterkommere fra vestlige lande",
    "35": "Efterkommere fra ikke-vestlige lande",
}
# How each table codes what the history calls a status and Danish origin, and the ages outside
# 16-64 it also has (persons per person aged 16-64 of the same status, origin and sex).
SHAPES = {
    "RAS201": {
        "statuses": {"0": "Beskæftigede", "5": "Arbejdsløse", "8": "Uden for arbejdsstyrken"},
        "danish": ("999", "Personer med dansk oprindelse"),
        "extra_ages": {"-15": (0.0, 0.0, 0.45), "65-66": (0.01, 0.0, 0.05), "67-": (0.01, 0.0, 0.25)},
    },
    "KAS201": {
        "statuses": {"00": "Beskæftigede", "50": "Arbejdsløse", "55": "Uden for arbejdsstyrken"},
        "danish": ("1", "Personer med dansk oprindelse"),
        "extra_ages": {"-16": (0.0, 0.0, 0.5), "65-66": (0.01, 0.0, 0.05), "67-": (0.01, 0.0, 0.25)},
    },
}

# Copenhagen, calibrated: 16-64 population in 2005 and yearly growth; origin shares of it in 2005
# and 2013 (Danish origin is the rest); how other origins' unemployment and the non-Western gap
# compare with the calibrated series.
COPENHAGEN_PROFILE = {
    "population": 360_000,
    "growth": 0.015,
    "shares": {"24": (0.050, 0.068), "25": (0.102, 0.120), "34": (0.006, 0.008), "35": (0.021, 0.034)},
    "cycle": 1.0,
    "gap": 1.0,
}
# Every other municipality: its population (16-64 per thousand residents) and a typical profile
# that its own generator varies.
WORKING_AGE_SHARE = 0.62
TYPICAL_SHARES = {"24": (0.025, 0.035), "25": (0.040, 0.050), "34": (0.003, 0.004), "35": (0.007, 0.011)}
SHARES_UNTIL = HISTORY.index(2013) * len(QUARTERS) + NOVEMBER  # shares move linearly up to 2013K4
PARTICIPATION = np.array([0.80, 0.66, 0.56, 0.74, 0.62])  # labour force / population, by origin
# Unemployment relative to the group's rate: Danish vs Western among others; immigrants vs descendants.
RELATIVE_RISK = np.array([0.95, 1.30, 1.05, 1.10, 0.85])
# Other origins' unemployment (percent) in the third quarter of each year, and its seasonal swing.
CYCLE = dict(zip(HISTORY, [5.2, 4.3, 3.2, 2.6, 4.6, 5.6, 5.5, 5.6, 5.4, 5.0, 4.6, 4.2, 4.0, 3.7], strict=False))
CYCLE_SEASON = np.array([0.4, 0.1, 0.0, 0.1])
# Indicator 2.1 for Copenhagen through its two published values (the quarters holding September
# 2005 and November 2012), and the seasonal swing (none in the fourth quarter, RAS201's).
GAP_ANCHORS = {(2005, "K3"): 13.1, (2012, "K4"): 10.8}
GAP_SEASON = np.array([0.2, 0.1, 0.0, 0.0])
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
    """RAS201's and KAS201's tableinfo and full BULK text (lang=da) into `data_dir`."""
    areas = {ALL_DENMARK: "Hele landet", **{code: m.name for code, m in municipalities().items()}}
    history = np.stack([_cells(code, seed) for code in list(areas)[1:]])
    for table, municipal in (("RAS201", _ras201(history)), ("KAS201", _kas201(history))):
        counts = np.concatenate([municipal.sum(axis=0, keepdims=True), municipal])
        save_table(data_dir, _tableinfo(table, areas), _bulk(_variables(table, areas), counts))


def _profile(code: str, rng: np.random.Generator) -> dict:
    """Copenhagen's calibrated profile; any other municipality's drawn around the typical one."""
    if code == COPENHAGEN:
        return COPENHAGEN_PROFILE
    spread = rng.uniform(0.5, 1.5, len(TYPICAL_SHARES))
    return {
        "population": municipalities()[code].population_thousands * 1000 * WORKING_AGE_SHARE,
        "growth": rng.uniform(-0.005, 0.01),
        "shares": {
            origin: (start * factor, end * factor)
            for (origin, (start, end)), factor in zip(TYPICAL_SHARES.items(), spread, strict=False)
        },
        "cycle": rng.uniform(0.7, 1.1),
        "gap": rng.uniform(0.6, 1.0),
    }


def _quarter_index() -> tuple[np.ndarray, np.ndarray]:
    """Quarters since the history's first and each one's position in its year (0 = K1)."""
    index = np.arange(len(HISTORY) * len(QUARTERS))
    return index, index % len(QUARTERS)


def _position(year: int, quarter: str) -> int:
    return (year - HISTORY[0]) * len(QUARTERS) + QUARTERS.index(quarter)


def _gap(season: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Copenhagen's 2.1 (percentage points): a straight line through the published values."""
    (start, first), (end, last) = [(_position(*anchor), value) for anchor, value in GAP_ANCHORS.items()]
    return first + (last - first) * (index - start) / (end - start) + GAP_SEASON[season]


def _cycle(season: np.ndarray, index: np.ndarray) -> np.ndarray:
    anchors = [_position(year, "K3") for year in CYCLE]
    return np.interp(index, anchors, list(CYCLE.values())) + CYCLE_SEASON[season]


def _by_status(area: dict, rng: np.random.Generator) -> np.ndarray:
    """Employed, unemployed, outside the labour force aged 16-64: shape (status, quarter, origin)."""
    index, season = _quarter_index()
    progress = index / SHARES_UNTIL
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


def _cells(code: str, seed: int) -> np.ndarray:
    """One municipality's 16-64 counts: shape (status, origin, age, sex, quarter)."""
    rng = np.random.default_rng([seed, int(code)])
    by_status = _by_status(_profile(code, rng), rng)
    sex_weights = np.stack([MEN_SHARE, 1 - MEN_SHARE], axis=-1)  # (status, sex)
    weights = (AGE_PROFILE[:, :, None] * sex_weights[:, None, :]).reshape(len(STATUSES), 1, 1, -1)
    noisy = weights * np.exp(rng.normal(0, 0.05, by_status.shape + (weights.shape[-1],)))
    cells = apportion(by_status, noisy).reshape(by_status.shape + (len(AGES), len(SEXES)))
    return cells.transpose(0, 2, 3, 4, 1)


def _with_extra_ages(cells: np.ndarray, table: str) -> np.ndarray:
    """The table's ages outside 16-64 around the ten bands (age is axis 3), from the history's
    16-64 counts per status: (area, status, origin, age, sex, …)."""
    extra = SHAPES[table]["extra_ages"]
    in_bands = cells.sum(axis=3, keepdims=True)
    per_status = np.array(list(extra.values())).T.reshape(1, len(STATUSES), 1, len(extra), *([1] * (cells.ndim - 4)))
    outside = np.round(in_bands * per_status).astype(cells.dtype)
    first = [name.startswith("-") for name in extra]
    return np.concatenate([outside[:, :, :, first], cells, outside[:, :, :, [not f for f in first]]], axis=3)


def _ras201(history: np.ndarray) -> np.ndarray:
    """(area, status, origin, age, sex, year): each year's fourth quarter, no totals."""
    quarters = [_position(year, QUARTERS[NOVEMBER]) for year in RAS201_YEARS]
    return _with_extra_ages(history[..., quarters], "RAS201")


def _kas201(history: np.ndarray) -> np.ndarray:
    """(area, status, origin, age, sex, period, year), totals first on every axis but area, the
    whole year (PERIODE 1) the quarters' mean."""
    quarters = [_position(year, quarter) for year in KAS201_YEARS for quarter in QUARTERS]
    cells = _with_extra_ages(history[..., quarters], "KAS201")
    cells = cells.reshape(cells.shape[:-1] + (len(KAS201_YEARS), len(QUARTERS))).swapaxes(-1, -2)
    cells = np.concatenate([cells, np.round(cells.mean(axis=-2, keepdims=True)).astype(cells.dtype)], axis=-2)
    for axis in range(1, 5):
        cells = np.concatenate([cells.sum(axis=axis, keepdims=True), cells], axis=axis)
    return cells


def _variables(table: str, areas: dict[str, str]) -> list[dict]:
    """tableinfo's variables in the table's shape; the order of the BULK columns."""
    shape = SHAPES[table]
    totals = table == "KAS201"  # RAS201 has no totals and no PERIODE
    extra = list(shape["extra_ages"])
    ages = {**{age: f"{age} år" for age in extra if age.startswith("-")}, **{age: f"{age} år" for age in AGES}}
    ages |= {age: f"{age} år" for age in extra if not age.startswith("-")}
    origins = dict([shape["danish"], *ORIGIN_TEXTS.items()])
    time = KAS201_YEARS if totals else RAS201_YEARS

    def variable(variable_id: str, text: str, codes: dict[str, str], total: str | None = "I alt") -> dict:
        values = {"TOT": total, **codes} if totals and total else codes
        return {
            "id": variable_id,
            "text": text,
            "elimination": variable_id != "Tid",
            "time": variable_id == "Tid",
            "values": [{"id": code, "text": text} for code, text in values.items()],
        }

    variables = [
        variable("OMRÅDE", "område", areas, total=None),
        variable("SOCIO", "socioøkonomisk status", shape["statuses"]),
        variable("HERKOMST", "herkomst", origins),
        variable("ALDER", "alder", ages, total="Alder i alt"),
        variable("KØN", "køn", SEXES),
    ]
    if totals:
        periods = {quarter: f"{quarter[1]}. kvartal" for quarter in QUARTERS} | {"1": "Hele året"}
        variables.append(variable("PERIODE", "periode", periods, total=None))
    return [*variables, variable("Tid", "tid", {str(year): str(year) for year in time}, total=None)]


def _tableinfo(table: str, areas: dict[str, str]) -> dict:
    quarterly = table == "KAS201"
    what = "område, socioøkonomisk status, herkomst, alder, køn" + (", periode og tid" if quarterly else " og tid")
    years = KAS201_YEARS if quarterly else RAS201_YEARS
    return {
        "id": table,
        "text": f"Befolkningen efter {what}",
        "description": f"Befolkningen efter {what} (syntetiske demodata)",
        "unit": "Antal",
        "suppressedDataValue": "0",
        "updated": f"{years[-1] + 1}-03-20T08:00:00",
        "active": True,
        "contacts": [{"name": "Arbejdsmarked (demo)", "phone": "", "mail": "demo@example.invalid"}],
        "footnote": {"text": "Syntetiske data til barometerets demo; ikke Danmarks Statistiks tal.", "mandatory": True},
        "variables": _variables(table, areas),
    }


def _bulk(variables: list[dict], counts: np.ndarray) -> str:
    """The full table as BULK text: header of variable ids (upper case, as the API writes
    them) then INDHOLD, one row per cell in the table's variable order."""
    levels = [[value["id"] for value in variable["values"]] for variable in variables]
    frame = pd.MultiIndex.from_product(levels).to_frame(index=False)
    frame.columns = [variable["id"].upper() for variable in variables]
    frame["INDHOLD"] = counts.astype(np.int64).ravel()
    return frame.to_csv(sep=";", index=False, lineterminator="\n")
