"""Synthetic HR extracts for 2010-2013 (1 October each year), in the payroll system's format.

Calibrated by construction: each year's origin counts among managers and other staff are chosen
exactly and only their order is random, so 3.2 is 1.5 % in 2010 and the employees' non-Western
share (unknown origin left out) runs from 11.4 % to 12.0 %, slightly above the demo labour
force's ≈ 11 %.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from barometer.demo.common import landing_folder
from barometer.sources.workforce import NAME, SPEC

# Per year: managers of known origin, of whom non-Western; all employees of known origin, of
# whom non-Western. Western and unknown origins are fixed shares on top.
COUNTS = {
    2010: {"managers": 400, "managers_non_western": 6, "employees": 6000, "employees_non_western": 684},
    2011: {"managers": 406, "managers_non_western": 7, "employees": 6150, "employees_non_western": 713},
    2012: {"managers": 412, "managers_non_western": 8, "employees": 6300, "employees_non_western": 743},
    2013: {"managers": 420, "managers_non_western": 9, "employees": 6450, "employees_non_western": 774},
}
WESTERN_SHARE = 0.05
UNKNOWN_SHARE = 0.02
DEPARTMENTS = {
    "Børne- og Ungdomsforvaltningen": 0.35,
    "Sundheds- og Omsorgsforvaltningen": 0.25,
    "Socialforvaltningen": 0.15,
    "Teknik- og Miljøforvaltningen": 0.08,
    "Kultur- og Fritidsforvaltningen": 0.06,
    "Beskæftigelses- og Integrationsforvaltningen": 0.07,
    "Økonomiforvaltningen": 0.04,
}
MANAGER_TITLES = ["Skoleleder", "Institutionsleder", "Afdelingsleder", "Kontorchef", "Centerchef"]
STAFF_TITLES = [
    "Pædagog",
    "Lærer",
    "Social- og sundhedshjælper",
    "Sygeplejerske",
    "Socialrådgiver",
    "Kontorfuldmægtig",
    "Specialkonsulent",
    "Ingeniør",
    "Pædagogmedhjælper",
    "Overassistent",
]
FILE_NAMES = ["HR-udtraek.csv", "medarbejdere_eksport.csv", "eksport løn (1).csv", "personaledata.csv"]
STAFF_TURNOVER = 400  # employee numbers that leave the pool each year


def write(landing: Path, seed: int = 2013, size: float = 1.0, *, counts: dict = COUNTS) -> None:
    """One extract per year; `size` multiplies every count (benchmarks: employee numbers have
    six digits, so at most about 100 times the demo's staff). Another municipality's `counts`
    (COUNTS' form) give it its own levels (the extract has no district)."""
    rng = np.random.default_rng(seed)
    folder = landing_folder(landing, NAME)
    scale = max(size, 1.0)
    numbers = rng.choice(np.arange(100_000, 1_000_000), size=round(10_000 * scale), replace=False)
    for position, ((year, year_counts), file_name) in enumerate(zip(counts.items(), FILE_NAMES, strict=False)):
        scaled = {name: round(count * size) for name, count in year_counts.items()}
        extract = _extract(year, scaled, numbers[position * round(STAFF_TURNOVER * scale) :], rng)
        extract.to_csv(
            folder / file_name,
            sep=SPEC.format.separator,
            index=False,
            encoding=SPEC.format.encoding,
            lineterminator="\n",
        )


def _extract(year: int, counts: dict[str, int], numbers: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    managers = _origins(counts["managers"], counts["managers_non_western"])
    staff = _origins(
        counts["employees"] - counts["managers"], counts["employees_non_western"] - counts["managers_non_western"]
    )
    shuffled = pd.DataFrame(
        {
            "manager_flag": ["J"] * len(managers) + ["N"] * len(staff),
            "origin": managers + staff,
        }
    ).sample(frac=1, random_state=rng, ignore_index=True)
    is_manager = shuffled["manager_flag"] == "J"
    titles = np.where(is_manager, rng.choice(MANAGER_TITLES, len(shuffled)), rng.choice(STAFF_TITLES, len(shuffled)))
    return pd.DataFrame(
        SPEC.table("employees").as_delivered(
            {
                "person_id": [f"{number:06d}" for number in numbers[: len(shuffled)]],
                "department": rng.choice(list(DEPARTMENTS), len(shuffled), p=list(DEPARTMENTS.values())),
                "job_title": titles,
                "manager_flag": shuffled["manager_flag"],
                "origin": shuffled["origin"],
                "reference_date": f"{year}-10-01",
            }
        )
    )


def _origins(known: int, non_western: int) -> list[str]:
    """Exact origin codes for a group: its known origins, plus unknown ones on top."""
    western = round(known * WESTERN_SHARE)
    return (
        ["ikke-vestlig"] * non_western
        + ["vestlig"] * western
        + ["dansk"] * (known - non_western - western)
        + ["uoplyst"] * round(known * UNKNOWN_SHARE)
    )
