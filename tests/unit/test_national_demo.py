"""The national demo's landing zone: `landing/<code>/<source>/…`, Copenhagen exactly the calibrated
demo, the others sized by population, with their own levels, no districts and their own codes."""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import pytest
from barometer.demo import childcare, youth_education
from barometer.demo.national import childcare_targets, write_national, youth_cohorts
from barometer.sources.registry import file_sources
from python_calamine import CalamineWorkbook

CODES = ["101", "147", "825"]  # København, Frederiksberg (104 thousand), Læsø (2 thousand)
OTHERS = CODES[1:]
SEED = 2013


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("national")
    write_national(directory, CODES, SEED)
    return directory


def contents(path: Path) -> object:
    """A file's bytes; a workbook's cell values (openpyxl stamps the time it saves in it)."""
    if path.suffix == ".xlsx":
        workbook = CalamineWorkbook.from_path(str(path))
        return [workbook.get_sheet_by_name(name).to_python() for name in workbook.sheet_names]
    return path.read_bytes()


def files(root: Path) -> dict[str, object]:
    return {str(path.relative_to(root)): contents(path) for path in sorted(root.rglob("*")) if path.is_file()}


def table(path: Path, **options) -> pd.DataFrame:
    if path.suffix == ".xlsx":
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(options.get("sheet", "Status")).to_python()
        return pd.DataFrame(sheet[1:], columns=sheet[0])
    return pd.read_csv(path, dtype=str, keep_default_na=False, **options)


def test_layout_is_municipality_then_source(landing: Path) -> None:
    assert sorted(p.name for p in landing.iterdir()) == CODES
    for code in CODES:
        assert sorted(p.name for p in (landing / code).iterdir()) == sorted(file_sources())


def test_copenhagen_is_the_default_demo(landing: Path, tmp_path: Path) -> None:
    for source in file_sources():
        importlib.import_module(f"barometer.demo.{source}").write(tmp_path, SEED)
    assert files(landing / "101") == files(tmp_path)


def test_same_seed_same_files_other_seed_others(landing: Path, tmp_path: Path) -> None:
    write_national(tmp_path / "again", OTHERS, SEED)
    write_national(tmp_path / "other", OTHERS[:1], SEED + 1)
    for code in OTHERS:
        assert files(tmp_path / "again" / code) == files(landing / code)
    youth = "youth_education/uu data.xlsx"
    assert contents(tmp_path / "other" / "147" / youth) != contents(landing / "147" / youth)


def latest_rows(folder: Path, pattern: str) -> int:
    return max(len(table(path, sep=None, engine="python")) for path in folder.glob(pattern))


@pytest.mark.parametrize(
    ("source", "pattern"),
    [("childcare", "*/boern*.csv"), ("school_enrolment", "*/elever*.csv"), ("workforce", "*.csv")],
)
def test_sizes_follow_population(landing: Path, source: str, pattern: str) -> None:
    """Frederiksberg has 104 of Copenhagen's 632 thousand residents: about as many rows in 632
    (pupils outside public schools fill each district up to its share, so not exactly)."""
    copenhagen, frederiksberg = (latest_rows(landing / code / source, pattern) for code in ["101", "147"])
    assert frederiksberg / copenhagen == pytest.approx(104 / 632, rel=0.15)


def test_youth_register_follows_population(landing: Path) -> None:
    copenhagen, frederiksberg = (
        len(table(landing / code / "youth_education" / "uu data.xlsx")) for code in ["101", "147"]
    )
    assert frederiksberg / copenhagen == pytest.approx(104 / 632, rel=0.15)


DISTRICT_COLUMNS = {
    "childcare/*/boern*.csv": ("bopaelsbydel", {"sep": ","}),
    "childcare/*/institutioner*.csv": ("bydel", {"sep": ","}),
    "school_enrolment/*/elever*.csv": ("bopaelsbydel", {"sep": ";", "encoding": "utf-8-sig"}),
    "school_enrolment/*/skoler*.csv": ("bydel", {"sep": ";", "encoding": "utf-8-sig"}),
    "survey/*.csv": ("bydel", {"sep": ";"}),
    "youth_education/*.xlsx": ("Bydel", {}),
}


@pytest.mark.parametrize("pattern", DISTRICT_COLUMNS)
def test_district_column_delivered_empty_outside_copenhagen(landing: Path, pattern: str) -> None:
    column, options = DISTRICT_COLUMNS[pattern]
    for code in CODES:
        for path in landing.glob(f"{code}/{pattern}"):
            values = set(table(path, **options)[column])
            assert (values <= {"", None}) == (code != "101"), (code, path.name)


def test_safety_areas_have_no_district_outside_copenhagen(landing: Path) -> None:
    for path in (landing / "147" / "safety").glob("*.xlsx"):
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Tryghedsindeks").to_python()
        header = next(i for i, row in enumerate(rows) if row[0] == "Område-ID")
        areas = [row for row in rows[header + 1 :] if isinstance(row[0], float | int) and row[0] != ""]
        assert areas and all(row[2] == "" for row in areas)
        assert all(row[1].startswith("Frederiksberg, område ") for row in areas)


@pytest.mark.parametrize(
    ("pattern", "column", "options"),
    [
        ("childcare/*/institutioner*.csv", "institution_id", {"sep": ","}),
        ("school_enrolment/*/skoler*.csv", "institutionsnummer", {"sep": ";", "encoding": "utf-8-sig"}),
        ("grades/*.csv", "institutionsnummer", {"sep": ";", "encoding": "cp1252"}),
    ],
)
def test_school_and_institution_codes_are_the_municipalitys_own(
    landing: Path, pattern: str, column: str, options: dict
) -> None:
    codes = {
        code: set().union(*(set(table(path, **options)[column]) for path in landing.glob(f"{code}/{pattern}")))
        for code in CODES
    }
    for code in OTHERS:
        assert all(number.startswith(code) for number in codes[code] - {""}), code
    assert not codes["101"] & codes["147"] and not codes["101"] & codes["825"] and not codes["147"] & codes["825"]


def test_levels_move_by_a_factor_and_factor_one_is_copenhagen() -> None:
    assert youth_cohorts(1.0) == youth_education.COHORTS
    assert childcare_targets(1.0) == childcare.TARGETS
    # 2010, Danish origin: 2,194 completed, 7,651 enrolled of 11,610, so 1,765 in neither; twice
    # that is 3,530, leaving 8,080 split 2,194 : 7,651 -> 1,801 (1,800.67) and 6,279.
    assert youth_cohorts(2.0)[2010]["danish"] == (1801, 6279, 11610)
    # 4.1 in February 2010: (80.0, 96.5, 93.2) percent enrolled; half the share not enrolled each.
    assert childcare_targets(0.5)["4.1"][childcare.REFERENCE_DATES[0]] == pytest.approx((90.0, 98.25, 96.6))


def test_municipalities_differ(landing: Path) -> None:
    """Their own levels: the share of 15-19 year-olds in no education is not the same."""
    outside = {}
    for code in CODES:
        rows = table(landing / code / "youth_education" / "uu data.xlsx")
        outside[code] = (rows["Status"] == youth_education.STATUSES[2]).mean()
    assert len({round(share, 3) for share in outside.values()}) == len(CODES)
