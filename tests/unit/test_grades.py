"""grades (indicator 1.1): the ministry's CSV read and pseudonymised, its rules, the OLS ratio on
cases small enough to solve on paper, and the demo against the published figures."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from barometer.demo import grades as demo
from barometer.sources import grades as source
from barometer.sources.errors import DeliveryError
from barometer.sources.grades import validate
from barometer.sources.landing import find_deliveries
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.staged import Delivery
from barometer.transforms.grades import compute

KEY = PseudonymKey("test-key")
HEADER = (
    "cpr;institutionsnummer;skoleaar;fag;karakter;tosproget;foraeldre_uddannelse;"
    "foraeldre_beskaeftigelse;husstandsindkomst_decil"
)
HIGH, LOW = "Lang videregående", "Grundskole"
EMPLOYED = "Beskæftiget"
# the 2011/12 fixture: no background variation, income decile empty for everyone
MONO_A, MONO_B, BI_A, BI_B, BI_ABSENT = "150396-1235", "2207961344", "030496-2141", "111196-3356", "290296-0423"
FIXTURE = [
    (MONO_A, "101001", "2011/12", "Dansk, læsning", "12", "N", "Gymnasial", EMPLOYED, ""),
    (MONO_A, "101001", "2011/12", "Matematik, færdighedsregning", "02", "N", "Gymnasial", EMPLOYED, ""),
    (MONO_B, "101001", "2011/12", "Dansk, læsning", "10", "N", "Gymnasial", EMPLOYED, ""),
    (MONO_B, "101001", "2011/12", "Matematik, færdighedsregning", "IM", "N", "Gymnasial", EMPLOYED, ""),
    (BI_A, "101001", "2011/12", "Dansk, læsning", "7", "J", "Gymnasial", EMPLOYED, ""),
    (BI_A.replace("-", ""), "101001", "2011/12", "Matematik, færdighedsregning", "7", "J", "Gymnasial", EMPLOYED, ""),
    (BI_B, "101002", "2011/12", "Dansk, læsning", "4", "J", "Gymnasial", EMPLOYED, ""),
    (BI_B, "101002", "2011/12", "Matematik, færdighedsregning", "FR", "J", "Gymnasial", EMPLOYED, ""),
    (BI_B, "101002", "2011/12", "Engelsk, mundtlig", "", "J", "Gymnasial", EMPLOYED, ""),
    (BI_ABSENT, "101002", "2011/12", "Dansk, læsning", "IM", "J", "Gymnasial", EMPLOYED, ""),
]
CPRS = {row[0] for row in FIXTURE}


def write_delivery(folder: Path, rows: list[tuple], name: str = "udtraek.csv") -> Path:
    """The ministry's format: Windows-1252, ';', CRLF, header row."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [HEADER] + [";".join(row) for row in rows]
    path = folder / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def stage(tmp_path: Path, rows: list[tuple], name: str = "udtraek.csv"):
    path = write_delivery(tmp_path / "grades", rows, name)
    delivery = Delivery(source="grades", path=path, name=f"grades/{name}", sha256="", modified=0.0)
    return source.read(delivery, KEY, "101")


def with_cell(indices: tuple[int, ...], column: str, value: str) -> list[tuple]:
    """The fixture with `column` set to `value` in the rows at `indices` (0 = file row 2)."""
    rows = [list(row) for row in FIXTURE]
    for index in indices:
        rows[index][HEADER.split(";").index(column)] = value
    return [tuple(row) for row in rows]


def assert_safe(message: str, staged=None) -> None:
    """Neither a CPR number (either spelling) nor a pseudonym appears."""
    for cpr in CPRS:
        assert cpr not in message and cpr.replace("-", "") not in message
    if staged is not None:
        assert not any(pid in message for pid in staged.tables["grades"]["person_id"])


# --- reader -----------------------------------------------------------------------------------


def test_reader_stages_exams_with_pseudonyms_and_text_grades(tmp_path):
    staged = stage(tmp_path, FIXTURE)
    table = staged.tables["grades"]
    assert staged.reference_date == date(2012, 6, 30)
    assert staged.key_version == KEY.version
    assert list(table.columns) == [
        "_row",
        "person_id",
        "school",
        "subject",
        "grade",
        "bilingual",
        "parents_education",
        "parents_employment",
        "income_decile",
        "reference_date",
    ]
    assert table["_row"].tolist() == list(range(2, 12))
    assert table["grade"].tolist()[:4] == ["12", "02", "10", "IM"]
    assert table.loc[8, "grade"] == ""
    assert table["subject"].iloc[0] == "Dansk, læsning"
    assert table["income_decile"].isna().all()
    assert set(table["reference_date"]) == {date(2012, 6, 30)}
    # one person however the CPR is written; five pupils in all
    assert table.loc[4, "person_id"] == table.loc[5, "person_id"]
    assert table["person_id"].nunique() == 5
    assert_safe(table.to_string())


def test_reader_rejects_two_school_years(tmp_path):
    with pytest.raises(DeliveryError) as error:
        stage(tmp_path, with_cell((6,), "skoleaar", "2012/13"))
    assert (error.value.file, error.value.column, error.value.rows) == ("grades/udtraek.csv", "skoleaar", [8])
    assert "one reference date per delivery" in str(error.value)


def test_reader_rejects_a_malformed_school_year(tmp_path):
    with pytest.raises(DeliveryError) as error:
        stage(tmp_path, with_cell((2,), "skoleaar", "2011/13"))
    assert (error.value.column, error.value.rows) == ("skoleaar", [4])
    assert "YYYY/YY" in error.value.rule


def test_reader_rejects_a_malformed_cpr_without_showing_it(tmp_path):
    with pytest.raises(DeliveryError) as error:
        stage(tmp_path, with_cell((3,), "cpr", "2207961344x"))
    assert (error.value.column, error.value.rows) == ("cpr", [5])
    assert "2207961344" not in str(error.value)


# --- validation -------------------------------------------------------------------------------


def test_fixture_passes_validation(tmp_path):
    validate(stage(tmp_path, FIXTURE))


# file rows 4 and 5 are one pupil's two exams: pupil-level values are broken on both
@pytest.mark.parametrize(
    ("column", "value", "indices", "rule"),
    [
        ("karakter", "2", (3,), "7-point scale"),  # '2' is not '02'
        ("tosproget", "Ja", (2, 3), "J (bilingual) or N"),
        ("foraeldre_uddannelse", "Ukendt", (2, 3), "seven education levels"),
        ("foraeldre_beskaeftigelse", "", (2, 3), "employed, unemployed"),
        ("husstandsindkomst_decil", "11", (2, 3), "1-10 or empty"),
        ("institutionsnummer", "10100", (2, 3), "six-digit school number"),
    ],
)
def test_validation_names_file_rule_column_and_rows(tmp_path, column, value, indices, rule):
    staged = stage(tmp_path, with_cell(indices, column, value))
    with pytest.raises(DeliveryError) as error:
        validate(staged)
    message = str(error.value)
    assert message.startswith("grades/udtraek.csv: rule ")
    assert rule in error.value.rule and column in error.value.rule
    assert error.value.rows == [index + 2 for index in indices]
    assert_safe(message, staged)


def test_a_pupil_under_two_schools_is_named_by_rows(tmp_path):
    # the pupil's second exam, under another school, spelled without the hyphen
    staged = stage(tmp_path, with_cell((5,), "institutionsnummer", "101002"))
    with pytest.raises(DeliveryError) as error:
        validate(staged)
    assert error.value.rule == "one school per pupil in a school year"
    assert (error.value.column, error.value.rows) == ("institutionsnummer", [6, 7])
    assert_safe(str(error.value), staged)


def test_a_pupil_whose_background_differs_between_rows_is_an_error(tmp_path):
    staged = stage(tmp_path, with_cell((1,), "husstandsindkomst_decil", "4"))
    with pytest.raises(DeliveryError) as error:
        validate(staged)
    assert (error.value.column, error.value.rows) == ("husstandsindkomst_decil", [2, 3])
    assert_safe(str(error.value), staged)


# --- transform --------------------------------------------------------------------------------


def additive_2012_13() -> list[tuple]:
    """2012/13, exactly additive: mean = 5 + 4·(high education) − 2·(bilingual), unbalanced cells.

    monolingual high ×3 (mean 9), monolingual low ×1 (5), bilingual high ×1 (7), bilingual low ×3 (3).
    """
    cells = [
        ("N", HIGH, ["10", "10", "7"], 3),
        ("N", LOW, ["4", "7", "4"], 1),
        ("J", HIGH, ["7", "7"], 1),
        ("J", LOW, ["4", "02"], 3),
    ]
    rows, serial = [], 0
    for flag, education, marks, pupils in cells:
        for _ in range(pupils):
            serial += 1
            cpr = f"0107971{serial:03d}"
            rows += [
                (cpr, "101003", "2012/13", f"Fag {i}", mark, flag, education, "Ledig", "5")
                for i, mark in enumerate(marks)
            ]
    return rows


def test_ratio_on_cases_solved_by_hand(tmp_path):
    first = stage(tmp_path / "a", FIXTURE).tables["grades"]
    second = stage(tmp_path / "b", additive_2012_13()).tables["grades"]
    result = compute({"grades": pd.concat([first, second], ignore_index=True)}, "147")
    assert set(result["group_code"]) == {"bilingual"} and set(result["area_code"]) == {"147"}
    assert set(result["indicator_code"]) == {"1.1"}
    values = result.set_index(["reference_date", "measure"])

    # 2011/12, no covariate variation: β is the difference of means. Pupil means: monolingual
    # (12+2)/2 = 7 and 10 (IM not a grade) → 8.5; bilingual 7 (one pupil, two spellings) and
    # 4 (FR and empty not grades) → 5.5; the all-absent pupil is left out. β = −3;
    # residuals ±1.5 → s² = 9/2, se = √(4.5 · (1/2 + 1/2)).
    june_2012 = values.loc[date(2012, 6, 30)]
    assert june_2012.loc["beta", "value"] == pytest.approx(-3.0)
    assert june_2012.loc["beta_se", "value"] == pytest.approx(2.1213203436)
    assert june_2012.loc["value", "value"] == pytest.approx(64.7058823529)  # 100 · 5.5 / 8.5
    assert june_2012.loc["unadjusted", "value"] == pytest.approx(64.7058823529)
    assert (june_2012["n"] == 4).all()

    # 2012/13, exact fit: β = −2, se = 0. Monolingual mean (3·9 + 5)/4 = 8, bilingual
    # (7 + 3·3)/4 = 4: unadjusted 100 · 4/8 = 50, adjusted 100 · (8 − 2)/8 = 75.
    june_2013 = values.loc[date(2013, 6, 30)]
    assert june_2013.loc["beta", "value"] == pytest.approx(-2.0)
    assert june_2013.loc["beta_se", "value"] == pytest.approx(0.0, abs=1e-9)
    assert june_2013.loc["value", "value"] == pytest.approx(75.0)
    assert june_2013.loc["unadjusted", "value"] == pytest.approx(50.0)
    assert (june_2013["n"] == 8).all()
    assert result["numerator"].isna().all()


# --- demo -------------------------------------------------------------------------------------

PUBLISHED = {date(2010, 6, 30): 92.7, date(2011, 6, 30): 92.8, date(2012, 6, 30): 93.1, date(2013, 6, 30): 93.4}


@pytest.fixture(scope="module")
def demo_landing(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("landing")
    demo.write(landing, seed=2013)
    return landing


def test_demo_files_are_in_the_ministry_format(demo_landing):
    files = sorted((demo_landing / "grades").iterdir())
    assert len(files) == 4
    raw = files[0].read_bytes()
    text = raw.decode("cp1252")
    assert text.startswith(HEADER + "\r\n") and "\n" not in text.replace("\r\n", "")
    assert "æ".encode("cp1252") in raw and "æ".encode("utf-8") not in raw
    cprs = pd.Series([line.split(";")[0] for line in text.splitlines()[1:]])
    assert cprs.str.fullmatch(r"\d{6}-\d{4}").any() and cprs.str.fullmatch(r"\d{10}").any()


def test_demo_reproduces_the_published_ratios(demo_landing):
    deliveries = find_deliveries("grades", demo_landing / "grades", ignore=[])
    staged = [source.read(delivery, KEY, "101") for delivery in deliveries]
    for delivery in staged:
        validate(delivery)
    result = compute({"grades": pd.concat([s.tables["grades"] for s in staged])}, "101")
    measures = result.pivot(index="reference_date", columns="measure", values="value")
    for when, published in PUBLISHED.items():
        assert measures.loc[when, "value"] == pytest.approx(published, abs=0.3)
        assert measures.loc[when, "unadjusted"] < measures.loc[when, "value"] - 5
    assert result["n"].between(1500, 3000).all()
