"""Synthetic final-exam deliveries for the school years 2009/10 … 2012/13, in the ministry's
format (Windows-1252, ';', CRLF, grades as text), calibrated to indicator 1.1's published values.

Bilingual pupils get a worse socio-economic background by construction (exact category counts per
group), so the unadjusted ratio lies below the adjusted one. The adjusted ratio is then calibrated
with the transform's own pupil means and model: bilingual pupils' grade profile is shifted by a
root search until the value is within CALIBRATION_TOLERANCE of the published figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from barometer.config import source_config
from barometer.demo.common import COPENHAGEN, apportion, cpr_digits, hyphenated, landing_folder
from barometer.sources.grades import NAME, SPEC
from barometer.transforms.grades import fit, pupil_means
from scipy.optimize import brentq

# exam year -> published adjusted ratio (2013 continues the trend) and number of pupils
TARGETS = {2010: 92.7, 2011: 92.8, 2012: 93.1, 2013: 93.4}
PUPILS = {2010: 1880, 2011: 1920, 2012: 1970, 2013: 2010}
FILE_NAMES = [
    "Karakterer_udtraek.csv",
    "afgangsproever eksport.csv",
    "BUF-data karakterer.csv",
    "karakterudtraek_endelig.csv",
]  # sender-chosen: no meaning in them
BILINGUAL_SHARE = 0.25
CORE_SUBJECTS = [
    "Dansk, læsning",
    "Dansk, retskrivning",
    "Dansk, skriftlig fremstilling",
    "Dansk, mundtlig",
    "Matematik, færdighedsregning",
    "Matematik, problemløsning",
    "Engelsk, mundtlig",
]
EXTRA_SUBJECTS = ["Fysik/kemi, praktisk/mundtlig", "Biologi, skriftlig", "Tysk, mundtlig"]
SCALE = np.array([-3, 0, 2, 4, 7, 10, 12])
SPELLING = np.array(["-3", "00", "02", "4", "7", "10", "12"])
# category -> (share among monolingual pupils, share among bilingual pupils, effect in grade points)
EDUCATION = {
    "Grundskole": (0.07, 0.30, -1.0),
    "Gymnasial": (0.08, 0.09, 0.0),
    "Erhvervsfaglig": (0.24, 0.17, -0.5),
    "Kort videregående": (0.07, 0.06, -0.2),
    "Mellemlang videregående": (0.23, 0.12, 0.3),
    "Lang videregående": (0.28, 0.10, 0.8),
    "Uoplyst": (0.03, 0.16, -0.7),
}
EMPLOYMENT = {
    "Beskæftiget": (0.86, 0.56, 0.2),
    "Ledig": (0.05, 0.12, -0.3),
    "Uden for arbejdsstyrken": (0.07, 0.25, -0.4),
    "Uoplyst": (0.02, 0.07, -0.35),
}
DECILE = {str(d): (0.02 + 0.012 * d, 0.16 - 0.012 * d, 0.08 * (d - 5.5)) for d in range(1, 11)}
DECILE[""] = (0.04, 0.10, -0.3)  # empty in the file
BASE_GRADE = 6.6
ABILITY_SD, EXAM_SD = 1.7, 2.0
NOT_GRADED = {"IM": 0.02, "FR": 0.01, "": 0.005}  # per exam
ALL_ABSENT_SHARE = 0.01  # pupils with no grade at all: not in the model
CALIBRATION_TOLERANCE = 0.05  # index points; the published figures have one decimal
SHIFT_BRACKET = (-3.0, 3.0)  # grade points added to bilingual pupils' latent grades
SHIFT_PRECISION = 1e-3


def write(
    landing: Path,
    seed: int = 2013,
    size: float = 1.0,
    *,
    municipality: str = COPENHAGEN,
    bilingual_shift: float | None = None,
) -> None:
    """One exam file per school year; `size` multiplies the pupils (benchmarks), each year's
    grades still calibrated to its target. Another municipality's schools are numbered in its
    own thousand (its code first), and a `bilingual_shift` (grade points) sets its level instead
    of the calibration, which a few pupils cannot carry."""
    folder = landing_folder(landing, NAME)
    rng = np.random.default_rng(seed)
    first_school = int(municipality) * 1000
    schools = rng.choice(np.arange(first_school, first_school + 1000), size=46, replace=False).astype(str)
    school_weights = rng.gamma(4.0, size=len(schools))
    for file_name, (year, target) in zip(FILE_NAMES, TARGETS.items(), strict=False):
        pupils = make_pupils(rng, year, round(PUPILS[year] * size), schools, school_weights / school_weights.sum())
        exams = make_exams(rng, pupils)
        exams["karakter"] = (
            calibrated_grades(exams, year, target) if bilingual_shift is None else grades_at(exams, bilingual_shift)
        )
        form = SPEC.format
        exams[SPEC.table(NAME).headers].to_csv(
            folder / file_name, sep=form.separator, index=False, encoding=form.encoding, lineterminator="\r\n"
        )


def make_pupils(
    rng: np.random.Generator, year: int, count: int, schools: np.ndarray, school_shares: np.ndarray
) -> pd.DataFrame:
    """One row per pupil: background drawn with exact counts per group, ability, CPR spelling."""
    bilingual = rng.permutation(np.arange(count) < round(BILINGUAL_SHARE * count))
    pupils = pd.DataFrame(
        {"bilingual": bilingual, "institutionsnummer": rng.choice(schools, size=count, p=school_shares)}
    )
    ability = BASE_GRADE + rng.normal(0.0, ABILITY_SD, count)
    for column, categories in [
        ("foraeldre_uddannelse", EDUCATION),
        ("foraeldre_beskaeftigelse", EMPLOYMENT),
        ("husstandsindkomst_decil", DECILE),
    ]:
        drawn = pd.Series("", index=pupils.index)
        for group, share_index in [(False, 0), (True, 1)]:
            members = pupils.index[pupils["bilingual"] == group]
            shares = [share[share_index] for share in categories.values()]
            drawn[members] = rng.permutation(np.repeat(list(categories), apportion(len(members), shares)))
        pupils[column] = drawn
        ability += drawn.map({name: spec[2] for name, spec in categories.items()}).to_numpy()
    pupils["ability"] = ability
    pupils["tosproget"] = np.where(bilingual, "J", "N")
    pupils["skoleaar"] = f"{year - 1}/{year % 100:02d}"
    return pupils.join(cpr_numbers(rng, year, count))


def cpr_numbers(rng: np.random.Generator, year: int, count: int) -> pd.DataFrame:
    """Synthetic CPR numbers of pupils born 15-17 years before the exams, without hyphen, and how
    each pupil writes theirs: most with a hyphen, some without, and some both ways across rows."""
    birth_year = year - rng.choice([15, 16, 17], size=count, p=[0.02, 0.90, 0.08])
    birth = pd.to_datetime(pd.DataFrame({"year": birth_year, "month": 1, "day": 1}))
    birth += pd.to_timedelta(rng.integers(0, 365, size=count), unit="D")
    return pd.DataFrame(
        {
            "digits": cpr_digits(birth, rng),
            "spelling": rng.choice(["hyphen", "plain", "mixed"], size=count, p=[0.6, 0.3, 0.1]),
        }
    )


def make_exams(rng: np.random.Generator, pupils: pd.DataFrame) -> pd.DataFrame:
    """Seven core exams per pupil plus up to one extra; some absent, exempt or blank."""
    extra = rng.choice([None, *EXTRA_SUBJECTS], size=len(pupils), p=[0.55, 0.15, 0.15, 0.15])
    subjects = pd.DataFrame(
        {"pupil": np.repeat(pupils.index, len(CORE_SUBJECTS)), "fag": np.tile(CORE_SUBJECTS, len(pupils))}
    )
    extras = pd.DataFrame({"pupil": pupils.index, "fag": extra}).dropna()
    exams = pd.concat([subjects, extras]).sort_values(["pupil"], kind="stable", ignore_index=True)
    exams = exams.join(pupils, on="pupil")
    exams["noise"] = rng.normal(0.0, EXAM_SD, len(exams))
    draw = rng.random(len(exams))
    outcomes = np.array([*NOT_GRADED, None], dtype=object)  # None: graded
    exams["not_graded"] = outcomes[np.searchsorted(np.cumsum(list(NOT_GRADED.values())), draw)]
    absent_pupils = rng.random(len(pupils)) < ALL_ABSENT_SHARE
    exams.loc[absent_pupils[exams["pupil"]], "not_graded"] = "IM"
    mixed = (exams["spelling"] == "mixed") & (rng.random(len(exams)) < 0.5)
    hyphen = (exams["spelling"] == "hyphen") | mixed
    exams["cpr"] = hyphenated(exams["digits"], hyphen)
    return exams.sort_values(["institutionsnummer", "pupil"], kind="stable", ignore_index=True)


def scale_points(exams: pd.DataFrame, shift: float) -> np.ndarray:
    """Each exam's position on the scale: the point nearest ability + exam noise (+ shift if bilingual)."""
    latent = exams["ability"] + exams["noise"] + shift * exams["bilingual"]
    return np.abs(latent.to_numpy()[:, None] - SCALE).argmin(axis=1)


def grades_at(exams: pd.DataFrame, shift: float) -> pd.Series:
    """The karakter column: the scale's spelling, or IM/FR/empty where the exam was not graded."""
    spelled = pd.Series(SPELLING[scale_points(exams, shift)], index=exams.index)
    return spelled.where(exams["not_graded"].isna(), exams["not_graded"])


def pupils_at(exams: pd.DataFrame, shift: float, year: int) -> pd.DataFrame:
    """The transform's pupil table for the exams graded with this shift."""
    staged = pd.DataFrame(
        {
            "reference_date": year,
            "person_id": exams["pupil"],
            "grade": grades_at(exams, shift),
            "bilingual": exams["tosproget"],
            "parents_education": exams["foraeldre_uddannelse"],
            "parents_employment": exams["foraeldre_beskaeftigelse"],
            "income_decile": exams["husstandsindkomst_decil"].replace("", pd.NA),
        }
    )
    return pupil_means(staged, source_config(NAME)["grade_scale"])


def calibrated_grades(exams: pd.DataFrame, year: int, target: float) -> pd.Series:
    """Root search (Brent) on the bilingual shift for the target value.

    The design (dummies) does not depend on the shift and β is linear in the pupil means, so the
    model is fitted once and β read off as the estimator's weights · the means at each shift; the
    search recomputes the means with bincount, and the result is checked with the transform's own
    pupil means. Grades are discrete, so the value is a fine step function of the shift.
    """
    pupils = pupils_at(exams, 0.0, year)
    model = fit(pupils).model
    weights = model.pinv_wexog[model.exog_names.index("bilingual")]
    monolingual_mean = pupils.loc[pupils["bilingual"] == 0, "mean_grade"].mean()  # the shift never reaches it
    graded = exams["not_graded"].isna().to_numpy()
    position = exams["pupil"].map(pd.Series(np.arange(len(pupils)), index=pupils["person_id"]))
    position = position.to_numpy()[graded].astype(int)
    exams_per_pupil = np.bincount(position, minlength=len(pupils))

    def value(means: np.ndarray) -> float:
        return 100 * (monolingual_mean + weights @ means) / monolingual_mean

    def miss(shift: float) -> float:
        points = SCALE[scale_points(exams, shift)][graded]
        return value(np.bincount(position, weights=points, minlength=len(pupils)) / exams_per_pupil) - target

    shift = brentq(miss, *SHIFT_BRACKET, xtol=SHIFT_PRECISION)
    calibrated = value(pupils_at(exams, shift, year)["mean_grade"].to_numpy())
    assert abs(calibrated - target) < CALIBRATION_TOLERANCE, f"grades demo for {year} calibrates to {target}"
    return grades_at(exams, shift)
