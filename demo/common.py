"""What the demo generators share: whole-number apportioning that keeps totals exact, birth dates
that give an exact age, synthetic CPR numbers that agree with them, and district names spelled
the many ways senders spell them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from barometer.config.municipalities import municipalities
from barometer.sources import registry
from numpy.typing import ArrayLike

# The municipality the demo's deliveries are calibrated to, and the only one they have districts
# for: others are written with their district cells empty (published city-wide only).
COPENHAGEN = "101"

# Ways deliveries have spelled each district (district number -> spellings, the official first).
SPELLINGS = {
    1: ["Indre By", "INDRE BY", "Indre by "],
    2: ["Østerbro", "ØSTERBRO", "Østerbro ", "østerbro "],
    3: ["Nørrebro", "NØRREBRO ", "nørrebro"],
    4: ["Vesterbro/Kgs. Enghave", "Vesterbro-Kongens Enghave", "VESTERBRO/KGS. ENGHAVE"],
    5: ["Valby", "VALBY", "VALBY "],
    6: ["Vanløse", "VANLØSE", "Vanløse "],
    7: ["Brønshøj-Husum", "Brønshøj/Husum", "BRØNSHØJ-HUSUM", "Brønshøj - Husum", "Brønshøj Husum"],
    8: ["Bispebjerg", "BISPEBJERG", "BISPEBJERG "],
    9: ["Amager Øst", "AMAGER ØST", "Amager øst"],
    10: ["Amager Vest", "AMAGER VEST ", "Amager Vest "],
}


def landing_folder(landing: Path, source: str) -> Path:
    """The source's landing folder (from config), created if need be."""
    folder = landing / registry.landing_folder(source)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def apportion(total: int | np.ndarray, weights: ArrayLike) -> np.ndarray:
    """Integers summing to `total` in proportion to `weights` along the last axis (largest
    remainders, ties to the first): calibrated counts stay exact when split. `total` may be an
    array of totals, one per row of `weights`."""
    weights = np.asarray(weights, dtype=float)
    total = np.asarray(total)
    assert (total >= 0).all() and (weights.sum(axis=-1) > 0).all(), "something to apportion, by positive weights"
    exact = total[..., None] * weights / weights.sum(axis=-1, keepdims=True)
    counts = np.floor(exact)
    left_over = total - counts.sum(axis=-1)
    rank = np.argsort(np.argsort(counts - exact, axis=-1, kind="stable"), axis=-1, kind="stable")
    return (counts + (rank < left_over[..., None])).astype(int)


def birth_dates(ages: np.ndarray, reference_date: date, rng: np.random.Generator) -> pd.Series:
    """Uniform over the birth dates that give each age on the reference date: from the day after
    the (age + 1)th birthday's date up to and including the age-th's, so the boundary days the
    pipeline must get right occur too."""
    years = reference_date.year - np.asarray(ages)
    latest, earliest = (
        pd.to_datetime(pd.DataFrame({"year": year, "month": reference_date.month, "day": reference_date.day}))
        for year in (years, years - 1)
    )
    days = (latest - earliest).dt.days.to_numpy()
    return latest - pd.to_timedelta(rng.integers(0, days), unit="D")


def cpr_digits(birth: pd.Series, rng: np.random.Generator) -> pd.Series:
    """Unique synthetic CPR numbers (ten digits, no hyphen) for births in 1900-2036: DDMMYY, a
    7th digit that gives the right century (0-3: 1900s, 4-9: 2000s), and three digits that keep
    persons born the same day apart (stepping by 7, coprime to 1000, so not simply counting)."""
    assert birth.dt.year.between(1900, 2036).all(), "the 7th digits used give 1900-2036 only"
    rank = birth.groupby(birth).cumcount().to_numpy()
    assert rank.max() < 1000, "three digits keep the numbers of one birth date apart"
    century = np.where(birth.dt.year >= 2000, rng.integers(4, 10, len(birth)), rng.integers(0, 4, len(birth)))
    serial = century * 1000 + (rank * 7 + birth.dt.dayofyear.to_numpy()) % 1000
    return birth.dt.strftime("%d%m%y") + pd.Series(serial, index=birth.index).astype(str).str.zfill(4)


def hyphenated(digits: pd.Series, where: ArrayLike) -> np.ndarray:
    """CPR numbers written DDMMYY-SSSS where `where` holds, as ten digits elsewhere."""
    return np.where(where, digits.str[:6] + "-" + digits.str[6:], digits)


def cpr_numbers(birth: pd.Series, rng: np.random.Generator, hyphen_share: float) -> np.ndarray:
    """Unique synthetic CPR numbers for the birth dates, about `hyphen_share` of them hyphenated."""
    return hyphenated(cpr_digits(birth, rng), rng.random(len(birth)) < hyphen_share)


def has_districts(municipality: str) -> bool:
    return municipality == COPENHAGEN


def place_name(municipality: str) -> str:
    """The municipality's name, for the names of its schools and institutions."""
    return municipalities()[municipality].name


def spell(
    districts: ArrayLike, rng: np.random.Generator, missing: str | None = "", municipality: str = COPENHAGEN
) -> np.ndarray:
    """District names for district numbers as senders spell them, mixed even within a file;
    any other number (0: none known) gets `missing`, the sender's empty cell, and so does every
    row of a municipality without districts (the column is still delivered)."""
    numbers = np.asarray(districts)
    if not has_districts(municipality):
        return np.full(len(numbers), missing, dtype=object)
    spelled = np.full(len(numbers), missing, dtype=object)
    for district, spellings in SPELLINGS.items():
        here = numbers == district
        spelled[here] = np.array(spellings, dtype=object)[rng.integers(len(spellings), size=here.sum())]
    return spelled
