"""Synthetic deliveries for many municipalities: `landing/<municipality code>/<source>/…`.

Copenhagen (101) gets exactly the calibrated demo (its numbers are the spec's). Every other
municipality is sized by its population relative to Copenhagen's and given its own levels: the
generators' calibration targets moved by factors drawn from a generator seeded with the demo seed
and the municipality's code, so municipalities differ (ranks mean something), the same seed
always gives the same files, and adding a municipality changes no other one. Their deliveries
keep the real formats, district columns included, with the district cells empty (the demo knows
Copenhagen's districts only), and number their schools and institutions after their own code.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
from barometer.config.municipalities import municipalities
from barometer.demo import childcare, generators, safety, school_enrolment, survey, workforce, youth_education
from barometer.demo.common import COPENHAGEN, place_name

Sizes = Callable[[float], dict[str, dict[str, float]]]
# How far a municipality's levels move from Copenhagen's: a factor exp(SPREAD · z), z standard
# normal, kept within BOUNDS (so every target stays reachable: shares in 0-100, counts in range).
SPREAD, BOUNDS = 0.3, (0.5, 1.5)
INDEX_POINTS = 3.0  # survey index (0-100): points per standard deviation
GRADE_POINTS = 0.5  # grades: bilingual pupils' shift, grade points per standard deviation
GRADE_SHIFT = 0.0  # … around this (no shift: the background alone sets the gap)


def demo_sizes(factor: float) -> dict[str, dict[str, float]]:
    """Each generator's size arguments for `factor` × the demo's Copenhagen: 1 gives the
    defaults exactly. Public schools shrink with the pupils down to one per district (the
    generator's floor), beyond which the schools shrink instead."""
    fewest = len(school_enrolment.DISTRICTS) / sum(count for count, _ in school_enrolment.DISTRICTS.values())
    sized = ["youth_education", "childcare", "grades", "workforce", "survey"]
    return {
        **{source: {"size": factor} for source in sized},
        "school_enrolment": {"size": factor, "public_schools": max(factor, fewest)},
    }


def write_national(
    landing: Path, codes: list[str], seed: int = 2013, scale: float = 1.0, sizes: Sizes = demo_sizes, workers: int = 1
) -> None:
    """Every listed municipality's deliveries under `landing/<code>/`, sized by `sizes` of its
    population relative to Copenhagen's × `scale`; `workers` processes write municipalities side by side."""
    write = partial(write_municipality, landing, seed=seed, scale=scale, sizes=sizes)
    if workers <= 1:
        for code in codes:
            write(code)
        return
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(write, codes))


def write_municipality(landing: Path, code: str, seed: int, scale: float, sizes: Sizes) -> None:
    """One municipality's deliveries of every file source, under `landing/<code>/`."""
    factor = scale * municipalities()[code].population_thousands / municipalities()[COPENHAGEN].population_thousands
    options = sizes(factor)
    levels = {} if code == COPENHAGEN else variation(code, seed, options)
    own_seed = seed if code == COPENHAGEN else municipality_seed(code, seed)
    for generator in generators():
        source = generator.NAME
        generator.write(landing / code, own_seed, **options.get(source, {}), **levels.get(source, {}))


def municipality_seed(code: str, seed: int) -> int:
    return int(np.random.SeedSequence([seed, int(code)]).generate_state(1)[0])


def variation(code: str, seed: int, options: dict[str, dict[str, float]]) -> dict[str, dict]:
    """The municipality's own levels and layout, as each generator's keyword arguments: one draw
    per indicator family, kept over the years (a municipality is consistently above or below);
    one district (it has none, so institutions compare with the whole municipality); and
    day-care institutions no more than its children fill (`options`: its size arguments)."""
    rng = np.random.default_rng([seed, int(code), 1])

    def factor() -> float:
        return float(np.clip(np.exp(SPREAD * rng.standard_normal()), *BOUNDS))

    own = {"municipality": code}
    daycare = max(1, round(childcare.DAYCARE_INSTITUTIONS * min(options["childcare"]["size"], 1.0)))
    return {
        "youth_education": {**own, "cohorts": youth_cohorts(factor())},
        "childcare": {
            **own,
            "targets": childcare_targets(factor()),
            "deviating": scaled(childcare.DEVIATING, factor()),
            "districts": {1: (1.0, 0.5)},  # one district: the minority share is the targets' alone
            "daycare_institutions": daycare,
        },
        "school_enrolment": {
            **own,
            "deviating": scaled(school_enrolment.DEVIATING, factor()),
            "districts": {1: school_district(factor())},
        },
        "grades": {**own, "bilingual_shift": GRADE_SHIFT + GRADE_POINTS * float(np.clip(rng.standard_normal(), -2, 2))},
        "survey": {**own, "surveys": surveys(factor(), factor())},
        "workforce": {"counts": workforce_counts(factor(), factor())},  # the extract has no district
        "safety": {**own, "level_counts": safety_levels(factor()), "areas": safety_areas(code)},
    }


def school_district(factor: float) -> tuple[int, float]:
    """Copenhagen's public schools as one district, its bilingual share `factor` × theirs."""
    counts, shares = (np.array(values) for values in zip(*school_enrolment.DISTRICTS.values(), strict=False))
    return int(counts.sum()), float(factor * (counts * shares).sum() / counts.sum())


def scaled(counts: dict, factor: float) -> dict:
    return {key: round(count * factor) for key, count in counts.items()}


def youth_cohorts(factor: float) -> dict:
    """COHORTS with `factor` × the 15-19 year-olds in no education, the others split as before."""
    cohorts = {}
    for year, groups in youth_education.COHORTS.items():
        cohorts[year] = {}
        for group, (completed, enrolled, persons) in groups.items():
            outside = round((persons - completed - enrolled) * factor)
            completed_now = round(completed * (persons - outside) / (completed + enrolled))
            cohorts[year][group] = (completed_now, persons - outside - completed_now, persons)
    return cohorts


def childcare_targets(factor: float) -> dict:
    """TARGETS with `factor` × the share not enrolled, in every group alike: the overall share
    stays the mix of the two groups' that it was, so the targets stay reachable."""
    return {
        band: {day: tuple(100 - (100 - share) * factor for share in shares) for day, shares in by_date.items()}
        for band, by_date in childcare.TARGETS.items()
    }


def surveys(index_factor: float, discrimination_factor: float) -> list:
    """SURVEYS with the index moved by INDEX_POINTS per standard deviation (the factor's log over
    SPREAD) and `discrimination_factor` × the share discriminated against."""
    points = INDEX_POINTS * np.log(index_factor) / SPREAD
    return [
        replace(
            one,
            index={group: target + points for group, target in one.index.items()},
            discrimination={group: target * discrimination_factor for group, target in one.discrimination.items()},
        )
        for one in survey.SURVEYS
    ]


def workforce_counts(managers_factor: float, employees_factor: float) -> dict:
    """COUNTS with the non-Western managers and employees scaled by the factors."""
    return {
        year: {
            **counts,
            "managers_non_western": round(counts["managers_non_western"] * managers_factor),
            "employees_non_western": round(counts["employees_non_western"] * employees_factor),
        }
        for year, counts in workforce.COUNTS.items()
    }


def safety_levels(factor: float) -> dict[int, list[int]]:
    """LEVEL_COUNTS with `factor` × the areas of the two highest need levels, the ordinary level
    taking up the difference (never more areas than the catalogue has)."""
    levels = {}
    for year, (highest, high, ordinary, *lower) in safety.LEVEL_COUNTS.items():
        top = [round(highest * factor), round(high * factor)]
        room = len(safety.AREAS) - sum(top) - sum(lower)
        levels[year] = [*top, max(0, min(ordinary + highest + high - sum(top), room)), *lower]
    return levels


def safety_areas(code: str) -> list[tuple[str, int]]:
    """As many areas as Copenhagen's catalogue, named after the municipality, no district (0)."""
    return [(f"{place_name(code)}, område {number}", 0) for number in range(1, len(safety.AREAS) + 1)]
