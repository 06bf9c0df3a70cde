"""grades: the 9th-grade final-exam results of one school year (Windows-1252 CSV, one row per exam).

Grades stay text: '02' and '00' are the scale's spellings, and '2' or '0' are errors validation
must see. The reference date is 30 June of the exam year, read from `skoleaar` ('2011/12' → the
June 2012 exams), never from the file name.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pandas as pd
from barometer.config import source_config
from barometer.sources.errors import DeliveryError
from barometer.sources.parsing import blank_as_missing, single_reference_date, stripped
from barometer.sources.pseudonym import PseudonymKey, pseudonymise_cpr
from barometer.sources.reader import read_table
from barometer.sources.spec import Column, FileFormat, SourceSpec, Table
from barometer.sources.staged import ROW, Delivery, StagedDelivery
from barometer.validations.columns import check_table

NAME = "grades"
GRADE_SCALE = source_config(NAME)["grade_scale"]
NOT_GRADES = source_config(NAME)["not_grades"]
EDUCATIONS = (
    "Grundskole",
    "Gymnasial",
    "Erhvervsfaglig",
    "Kort videregående",
    "Mellemlang videregående",
    "Lang videregående",
    "Uoplyst",
)
EMPLOYMENTS = ("Beskæftiget", "Ledig", "Uden for arbejdsstyrken", "Uoplyst")
INCOME_DECILES = tuple(str(decile) for decile in range(1, 11))

SPEC = SourceSpec(
    name=NAME,
    label="Folkeskolens afgangsprøve (karakterer)",
    description="9th-grade exams",
    format=FileFormat("csv", encoding="cp1252"),
    reference_date="30 June of the exam year, from the school year (skoleaar '2011/12' → 2012-06-30, one per delivery)",
    privacy=(
        "CPR, school, subject, grade, bilingual flag, parents' education and employment, household income decile"
    ),
    identifiers="CPR → pseudonym",
    tables=(
        Table(
            "grades",
            (
                Column(
                    "person_id", "cpr", "the pupil (HMAC of the CPR number)", "pseudonym", personal=True, computed=True,
                ),
                Column(
                    "school", "institutionsnummer", "the school's six-digit number",
                    pattern=r"^\d{6}$", pattern_rule="institutionsnummer is a six-digit school number",
                ),
                Column("reference_date", "skoleaar", "30 June of the exam year", "date", computed=True),
                Column("subject", "fag", "the exam subject"),
                Column(
                    "grade", "karakter", "the grade as spelled on the 7-point scale, or IM, FR or empty", computed=True,
                    allowed=(*GRADE_SCALE, *NOT_GRADES),
                    allowed_rule="karakter is on the 7-point scale (12, 10, 7, 4, 02, 00, -3) or IM, FR or empty",
                ),
                Column(
                    "bilingual", "tosproget", "J (bilingual) or N (monolingual)", computed=True,
                    allowed=("J", "N"), allowed_rule="tosproget is J (bilingual) or N (monolingual)",
                ),
                Column(
                    "parents_education", "foraeldre_uddannelse", "the parents' highest education", computed=True,
                    allowed=EDUCATIONS,
                    allowed_rule="foraeldre_uddannelse is one of the ministry's seven education levels",
                ),
                Column(
                    "parents_employment", "foraeldre_beskaeftigelse", "the parents' employment", computed=True,
                    allowed=EMPLOYMENTS, allowed_rule=(
                        "foraeldre_beskaeftigelse is employed, unemployed, outside the labour force or unknown"
                    ),
                ),
                Column(
                    "income_decile", "husstandsindkomst_decil", "the household income decile, empty if not known",
                    computed=True, allowed=INCOME_DECILES, allowed_rule="husstandsindkomst_decil is 1-10 or empty",
                ),
            ),
            unique_together=((("person_id", "subject"), "one row per pupil and exam subject (fag)"),),
        ),
    ),
)  # fmt: skip
# staged column -> rule: what must be the same on every row of a pupil
ONE_PER_PUPIL = {
    "school": "one school per pupil in a school year",
    "bilingual": "a pupil's bilingual flag is the same on every exam row",
    "parents_education": "a pupil's parents' education is the same on every exam row",
    "parents_employment": "a pupil's parents' employment is the same on every exam row",
    "income_decile": "a pupil's income decile is the same on every exam row",
}


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> StagedDelivery:
    """The delivery's exams with pseudonymised pupils; `municipality_code` is unused (no districts)."""
    raw = read_table(
        SPEC,
        "grades",
        delivery,
        prepare=pseudonymise_cpr("person_id", delivery.name, key, keep=("person_id",), label=SPEC.header("person_id")),
    )
    exam_dates = exam_date(raw["reference_date"], delivery.name, raw[ROW])
    reference_date = single_reference_date(exam_dates, delivery.name, SPEC.header("reference_date"), raw[ROW])
    table = pd.DataFrame({ROW: raw[ROW], "person_id": raw["person_id"]})
    for column in SPEC.table("grades").columns:
        if column.name not in ("person_id", "reference_date"):
            table[column.name] = stripped(raw[column.name])
    table["income_decile"] = blank_as_missing(table["income_decile"])  # empty: not known
    table["reference_date"] = reference_date
    return StagedDelivery(delivery, reference_date, {"grades": table}, key.version, municipality_code=municipality_code)


def exam_date(school_year: pd.Series, file: str, rows: pd.Series) -> pd.Series:
    """'2011/12' → '2012-06-30': the June exams close the school year (parsed once per spelling)."""
    spelled = school_year.astype("string").str.strip()
    distinct = pd.Series(spelled.unique(), dtype="string")
    parts = distinct.str.extract(r"^(\d{4})/(\d{2})$")
    start, end = (pd.to_numeric(parts[i]).astype("Int64") for i in (0, 1))
    dates = ((start + 1).astype("string") + "-06-30").where(end == (start + 1) % 100)
    exam_dates = spelled.map(dict(zip(distinct, dates, strict=True)))
    if exam_dates.isna().any():
        raise DeliveryError(
            file,
            "school year has the form YYYY/YY, e.g. 2011/12",
            SPEC.header("reference_date"),
            rows[exam_dates.isna()].tolist(),
        )
    return exam_dates


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    """The spec's rules, then the pupil-level facts and both languages graded. One school year
    per delivery is enforced by the reader, which needs it for the reference date."""
    table, file = staged.tables["grades"], staged.delivery.name
    check_table(SPEC.table("grades"), table, file, NAME, record=record)
    check_one_per_pupil(table, file)
    check_both_languages_graded(table, file)


def check_one_per_pupil(table: pd.DataFrame, file: str) -> None:
    """A pupil's school and background are pupil-level facts (a pupil's rows may spell the CPR
    number differently: the pseudonym joins them): differing rows are named (all columns counted
    in one grouping, the first rule broken reported)."""
    distinct = table.groupby("person_id")[list(ONE_PER_PUPIL)].transform("nunique", dropna=False)
    labels = SPEC.table("grades").labels
    for column, rule in ONE_PER_PUPIL.items():
        differs = distinct[column] > 1
        if differs.any():
            raise DeliveryError(
                file,
                rule,
                labels[column],
                table.loc[differs, ROW].tolist(),
                detail=f"{table.loc[differs, 'person_id'].nunique()} pupil(s) differ",
            )


def check_both_languages_graded(table: pd.DataFrame, file: str) -> None:
    """Indicator 1.1 compares bilingual with monolingual pupils: a school year without graded
    pupils of one kind (a flag column blanked or defaulted) cannot be compared."""
    graded = set(table.loc[table["grade"].isin(GRADE_SCALE), "bilingual"].unique())
    missing = [flag for flag in ("J", "N") if flag not in graded]
    if missing:
        raise DeliveryError(
            file,
            "the school year has graded bilingual (J) and monolingual (N) pupils",
            SPEC.header("bilingual"),
            detail=f"no graded pupil has {SPEC.header('bilingual')} {missing[0]}",
        )


def transform() -> ModuleType:
    from barometer.transforms import grades  # on use: a rerun reusing every source skips the import

    return grades
