"""Indicator 1.1: bilingual pupils' exam grades relative to monolingual pupils', adjusted for
parents' education, employment and household income by ordinary least squares.

Per school year: each pupil's mean over graded results, then
`mean_grade ~ bilingual + C(education) + C(employment) + C(income decile)` over every pupil with
a grade. The headline puts β on the monolingual pupils' scale:
100 × (monolingual mean + β) / monolingual mean.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import statsmodels.formula.api as smf
from barometer.config import source_config
from barometer.transforms.common import finish
from statsmodels.regression.linear_model import RegressionResults

INDICATORS = ["1.1"]
NAME = "grades"
GROUP = "bilingual"
BACKGROUND = ["parents_education", "parents_employment", "income_decile"]
MISSING = "missing"  # a missing background value is a category of its own, not a dropped pupil
FORMULA = "mean_grade ~ bilingual + C(parents_education) + C(parents_employment) + C(income_decile)"
MEASURES = ["value", "unadjusted", "beta", "beta_se"]
PUPIL = ["reference_date", "person_id"]


def compute(tables: dict[str, pd.DataFrame], municipality_code: str) -> pd.DataFrame:
    pupils = pupil_means(tables["grades"], source_config(NAME)["grade_scale"])
    years = pd.DataFrame(
        [{"reference_date": when, **grade_ratio(year)} for when, year in pupils.groupby("reference_date")],
        columns=["reference_date", "n", *MEASURES],
    )
    out = years.set_index(["reference_date", "n"]).rename_axis(columns="measure").stack().rename("value").reset_index()
    return finish(out.assign(indicator_code="1.1", group_code=GROUP, area_code=municipality_code))


def pupil_means(grades: pd.DataFrame, scale: list[str]) -> pd.DataFrame:
    """One row per pupil and school year with at least one grade: the mean of the graded results
    (absent, exempt and empty are not grades), the bilingual dummy and the background."""
    graded = grades[grades["grade"].isin(scale)]
    pupils = graded[[*PUPIL, "bilingual", *BACKGROUND]].drop_duplicates()
    if pupils.duplicated(PUPIL).any():
        raise ValueError("a pupil's flag and background are one per pupil (validated)")
    if not pupils["bilingual"].isin(["J", "N"]).all():
        raise ValueError("tosproget is J or N (validated)")
    # as text first: a categorical column's categories include the scale's non-grades ('IM')
    means = graded["grade"].astype(str).astype(int).groupby([graded[column] for column in PUPIL]).mean()
    pupils = pupils.join(means.rename("mean_grade"), on=PUPIL)
    pupils["bilingual"] = (pupils["bilingual"] == "J").astype(int)
    pupils[BACKGROUND] = pupils[BACKGROUND].astype("string").fillna(MISSING)
    return pupils.reset_index(drop=True)


def fit(pupils: pd.DataFrame) -> RegressionResults:
    """OLS of the pupil mean on the bilingual dummy and the background dummies (one school year:
    categorical columns keep only the year's own levels, so no dummy is all zero)."""
    data = pupils.astype({column: "category" for column in BACKGROUND})
    model = smf.ols(FORMULA, data=data).fit()
    if model.nobs != len(pupils):
        raise ValueError("every pupil with a grade is in the model")
    return model


def grade_ratio(pupils: pd.DataFrame) -> dict[str, Any]:
    """One school year's adjusted and unadjusted ratios, β and its standard error, and n."""
    monolingual_mean = pupils.loc[pupils["bilingual"] == 0, "mean_grade"].mean()
    bilingual_mean = pupils.loc[pupils["bilingual"] == 1, "mean_grade"].mean()
    if not (pd.notna(bilingual_mean) and monolingual_mean > 0):
        raise ValueError("a school year has bilingual pupils and monolingual pupils with a positive mean grade")
    model = fit(pupils)
    beta = model.params["bilingual"]
    return {
        "value": 100 * (monolingual_mean + beta) / monolingual_mean,
        "unadjusted": 100 * bilingual_mean / monolingual_mean,
        "beta": beta,
        "beta_se": model.bse["bilingual"],
        "n": int(model.nobs),
    }
