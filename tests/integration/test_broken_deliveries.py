"""Bad deliveries get a clear error, and nothing published is lost.

A corpus of small broken deliveries, one per rule, for every file source, in the sources' real
formats (helpers/delivery_builders.py): each is checked with `barometer validate` (exit 1, the
summary names file, rule and column, never a traceback or a CPR number). Then the real
refresh, through the CLI, on a landing zone refreshed once per module: broken re-sends and
StatBank failures end the run non-zero, leave the published observations byte-identical and are
recorded as rejected; owner files are ignored; a corrected re-send supersedes the older delivery.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from barometer.demo.statbank_server import serve, tableinfo_path
from delivery_builders import (
    VALID,
    Change,
    Spec,
    assert_safe,
    cell,
    corrupt_sheet,
    cut_off,
    damaged,
    emptied,
    every_row,
    extra_row,
    grades,
    header_only,
    not_a_workbook,
    without_column,
    without_file,
    written,
)
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from barometer.cli import app


@dataclass(frozen=True)
class Case:
    source: str
    changes: tuple[Change, ...]
    file: str | None  # the file of a folder delivery the summary names (None: the delivery)
    rule: str  # a fragment of the rule
    column: str | None


def case(source: str, *changes: Change, rule: str, column: str | None, file: str | None = None) -> Case:
    return Case(source, changes, file, rule, column)


CORPUS = {
    # grades: Windows-1252 CSV
    "grade off the scale": case("grades", cell(2, "karakter", "2"), rule="7-point scale", column="karakter"),
    "bilingual flag not J/N": case("grades", cell(3, "tosproget", "Ja"), rule="J (bilingual) or N", column="tosproget"),
    "pupil under two schools": case(
        "grades", cell(4, "institutionsnummer", "101002"), rule="one school per pupil", column="institutionsnummer"
    ),
    "exam row twice": case("grades", extra_row(1), rule="one row per pupil and exam", column="cpr, fag"),
    "karakter column missing": case(
        "grades", without_column("karakter"), rule="required column present", column="karakter"
    ),
    "two school years": case(
        "grades", cell(5, "skoleaar", "2012/13"), rule="one reference date per delivery", column="skoleaar"
    ),
    "malformed CPR number": case("grades", cell(6, "cpr", "31029-1234"), rule="CPR number has the form", column="cpr"),
    "UTF-8 where Windows-1252 is delivered": case(
        "grades", written(encoding="utf-8"), rule="foraeldre_beskaeftigelse is", column="foraeldre_beskaeftigelse"
    ),
    "upload cut off mid-row": case(
        "grades", damaged(cut_off(30)), rule="every row has the header's 9 fields", column="tosproget"
    ),
    # youth_education: .xlsx, sheet Status
    "unknown origin": case(
        "youth_education", cell(1, "Herkomst", "Udlænding"), rule="five categories", column="Herkomst"
    ),
    "unknown status": case(
        "youth_education", cell(0, "Status", "Afbrudt"), rule="completed, enrolled", column="Status"
    ),
    "born after the reference date": case(
        "youth_education",
        cell(0, "Fødselsdato", date(2013, 1, 5)),
        rule="not after the reference date",
        column="Fødselsdato",
    ),
    "too old for the register": case(
        "youth_education", cell(1, "Fødselsdato", date(1980, 7, 1)), rule="14-25 band", column="Fødselsdato"
    ),
    "person twice": case("youth_education", extra_row(0), rule="one row per person", column="CPR"),
    "unknown district": case(
        "youth_education", cell(2, "Bydel", "Frederiksberg"), rule="ten official districts", column="Bydel"
    ),
    "day and month swapped in the reference date": case(
        "youth_education",
        every_row("Opgørelsesdato", "01-10-2012"),
        rule="reference date is a date",
        column="Opgørelsesdato",
    ),
    "sheet renamed": case("youth_education", written(sheet="Ark1"), rule="sheet named 'Status'", column=None),
    "damaged sheet XML": case("youth_education", damaged(corrupt_sheet), rule="readable .xlsx workbook", column=None),
    # school_enrolment: a folder of two UTF-8-with-BOM CSVs
    "pupil's school not listed": case(
        "school_enrolment",
        cell(0, "institutionsnummer", "109999", "elever_nov.csv"),
        file="elever_nov.csv",
        rule="school list",
        column="institutionsnummer",
    ),
    "unknown school type": case(
        "school_enrolment",
        cell(2, "skoletype", "Efterskole", "skoler_nov.csv"),
        file="skoler_nov.csv",
        rule="Folkeskole, Privatskole",
        column="skoletype",
    ),
    "too young for school": case(
        "school_enrolment",
        cell(3, "cpr", "010110-4056", "elever_nov.csv"),
        file="elever_nov.csv",
        rule="6-16 band",
        column="cpr",
    ),
    "school list missing": case(
        "school_enrolment", without_file("skoler_nov.csv"), rule="exactly one file matching 'skoler*.csv'", column=None
    ),
    "Windows-1252 bytes in a UTF-8 file": case(
        "school_enrolment",
        written("elever_nov.csv", encoding="cp1252"),
        file="elever_nov.csv",
        rule="encoded as utf-8",
        column="bopaelsbydel",
    ),
    # childcare: a folder of two quoted, comma-separated UTF-8 CSVs
    "child's institution not listed": case(
        "childcare",
        cell(2, "institution_id", "9999", "boern_nov.csv"),
        file="boern_nov.csv",
        rule="listed in the institutions file",
        column="institution_id",
    ),
    "institution twice": case(
        "childcare",
        extra_row(0, "institutioner_nov.csv"),
        file="institutioner_nov.csv",
        rule="one row per institution",
        column="institution_id",
    ),
    "semicolons where commas are delivered": case(
        "childcare", written("boern_nov.csv", sep=";"), file="boern_nov.csv", rule="','-separated", column="cpr"
    ),
    "two reference dates": case(
        "childcare",
        cell(3, "opgoerelsesdato", "2012-02-01", "boern_nov.csv"),
        file="boern_nov.csv",
        rule="one reference date",
        column="opgoerelsesdato",
    ),
    "a reference date outside February and November": case(
        "childcare",
        every_row("opgoerelsesdato", "2012-12-01", "boern_nov.csv"),
        file="boern_nov.csv",
        rule="February or November",
        column="opgoerelsesdato",
    ),
    "unknown institution type": case(
        "childcare",
        cell(1, "type", "Dagpleje", "institutioner_nov.csv"),
        file="institutioner_nov.csv",
        rule="six kinds",
        column="type",
    ),
    # survey: UTF-8 CSV, decimal comma
    "weight zero": case("survey", cell(1, "vaegt", "0"), rule="weight (vaegt) is positive", column="vaegt"),
    "weight with a decimal point": case("survey", cell(2, "vaegt", "0.8"), rule="decimal comma", column="vaegt"),
    "answer code off the scale": case(
        "survey", cell(0, "q_tillid_naboer", "7"), rule="answer code", column="q_tillid_naboer"
    ),
    "unknown group": case("survey", cell(1, "gruppe", "ukendt"), rule="minoritet or majoritet", column="gruppe"),
    "respondent twice": case("survey", extra_row(0), rule="one row per respondent", column="respondent_id"),
    "empty file": case("survey", damaged(emptied), rule="file is not empty", column=None),
    # safety: .xlsx with a title above the table
    "area id twice": case("safety", cell(2, "Område-ID", "A01"), rule="Område-ID unique", column="Område-ID"),
    "index not a number": case("safety", cell(1, "Indeks", "ca. 140"), rule="Indeks is a number", column="Indeks"),
    "no header row": case(
        "safety",
        written(header=["Områdenr", "Område", "Bydel", "År", "Indeks", "Anmeldelser pr. 1.000 indb.", "Utryghed (%)"]),
        rule="a row starting with 'Område-ID'",
        column="Område-ID",
    ),
    "not a workbook": case("safety", damaged(not_a_workbook), rule="readable .xlsx workbook", column=None),
    # workforce: UTF-8 CSV
    "manager flag not J/N": case("workforce", cell(0, "leder", "Ja"), rule="leder is J or N", column="leder"),
    "unknown origin code": case(
        "workforce", cell(2, "herkomst", "ukendt"), rule="herkomst is dansk", column="herkomst"
    ),
    "employee twice": case("workforce", extra_row(1), rule="one row per employee", column="medarbejder_nr"),
    "header only": case("workforce", damaged(header_only), rule="file has data rows", column=None),
}


def broken_spec(corpus_case: Case) -> Spec:
    spec = VALID[corpus_case.source]()
    for change in corpus_case.changes:
        change(spec)
    return spec


def test_the_corpus_covers_every_file_source():
    assert {c.source for c in CORPUS.values()} == set(VALID) and len(CORPUS) >= 25


@pytest.mark.parametrize("name", CORPUS)
def test_a_broken_delivery_is_rejected_naming_file_rule_and_column(tmp_path, monkeypatch, name):
    """`barometer validate` reads and validates as a refresh does, and never opens the warehouse."""
    monkeypatch.delenv("BAROMETER_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("BAROMETER_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'untouched.sqlite'}")
    corpus_case = CORPUS[name]
    spec = broken_spec(corpus_case)
    result = CliRunner().invoke(app, ["validate", str(spec.write(tmp_path / "landing"))])
    assert result.exit_code == 1, result.output
    assert not (tmp_path / "untouched.sqlite").exists()
    summary = result.output.strip()
    assert summary.startswith(f"{spec.shown(corpus_case.file)}: rule '"), summary
    assert corpus_case.rule in summary
    if corpus_case.column:
        assert f"in column '{corpus_case.column}'" in summary
    assert_safe(summary)


# --- the real refresh: broken re-sends leave the published observations as they were ---------

EDITION = "2013-S2"
OBSERVATIONS = (
    "SELECT * FROM barometer_observation ORDER BY indicator_code, measure, group_code, area_code, reference_date"
)


def small_landing(demo_data: Path, target: Path) -> Path:
    """One demo delivery each of grades and childcare: enough to publish, cheap to refresh."""
    for folder in ("grades", "childcare"):
        first = sorted((demo_data / "landing" / folder).iterdir())[0]
        (target / folder).mkdir(parents=True)
        (shutil.copytree if first.is_dir() else shutil.copy2)(first, target / folder / first.name)
    return target


@dataclass
class Warehouse:
    """A warehouse refreshed from `landing`; each test refreshes it again through the CLI."""

    url: str
    landing: Path
    statbank_url: str
    original_grades: Path  # the demo's grades delivery, in force after the first refresh

    def run(self, statbank_url: str | None = None) -> int:
        """`barometer refresh` in this process (CliRunner's streams would close under Prefect's
        background log writers); its exit code."""
        return (
            app(
                [
                    "refresh",
                    "--edition",
                    EDITION,
                    "--landing",
                    str(self.landing),
                    "--warehouse",
                    self.url,
                    "--statbank-url",
                    statbank_url or self.statbank_url,
                ],
                standalone_mode=False,
            )
            or 0
        )

    def refresh(self, capfd, statbank_url: str | None = None) -> tuple[int, str]:
        """The exit code and everything the refresh printed, Prefect's log included."""
        capfd.readouterr()
        code = self.run(statbank_url)
        printed = capfd.readouterr()
        return code, printed.out + printed.err

    def school_year(self) -> str:
        """The school year of the demo's grades delivery ('2011/12')."""
        return self.original_grades.read_bytes().decode("cp1252").splitlines()[1].split(";")[2]

    def query(self, sql: str, **parameters) -> pd.DataFrame:
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                return pd.read_sql(text(sql), connection, params=parameters)
        finally:
            engine.dispose()

    def observations(self, without: str = "") -> str:
        """The published observations (but indicator `without`) as text: equal text, equal bytes."""
        frame = self.query(OBSERVATIONS)
        return frame[frame["indicator_code"] != without].to_csv(index=False)

    def statuses(self, name: str) -> dict[str, str | None]:
        """status -> message of the deliveries named `name` (StatBank's fetches share one name)."""
        rows = self.query("SELECT status, message FROM barometer_delivery WHERE name = :name", name=name)
        return dict(zip(rows["status"], rows["message"].where(rows["message"].notna(), None), strict=True))


@pytest.fixture(scope="module")
def refresh_env(tmp_path_factory) -> Iterator[Path]:
    """The module's refreshes: the key, StatBank retries without waiting, and a Data Docs
    folder (yielded)."""
    folder = tmp_path_factory.mktemp("data_docs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BAROMETER_DATA_DOCS_DIR", str(folder))
        patch.setenv("BAROMETER_PSEUDONYM_KEY", "barometer-test-key")
        patch.setenv("BAROMETER_STATBANK_BACKOFF_FACTOR", "0.01")
        patch.setenv("BAROMETER_STATBANK_RETRY_DELAY_SECONDS", "0")
        yield folder


@pytest.fixture(scope="module")
def warehouse(prefect_server, refresh_env, demo_data, statbank_url, tmp_path_factory) -> Warehouse:
    """Refreshed once per module: the good data every broken re-send must leave published."""
    root = tmp_path_factory.mktemp("warehouse")
    landing = small_landing(demo_data, root / "landing")
    [original_grades] = (landing / "grades").iterdir()
    published = Warehouse(f"sqlite:///{root / 'barometer.sqlite'}", landing, statbank_url, original_grades)
    assert published.run() == 0, "the good landing zone refreshes"
    return published


@contextmanager
def resent(landing: Path, *specs: Spec) -> Iterator[None]:
    """Deliveries dropped into the landing zone for one refresh, taken out afterwards."""
    paths = [spec.write(landing) for spec in specs]
    try:
        yield
    finally:
        for path in paths:
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def assert_clean(output: str, find_demo_cprs) -> None:
    assert_safe(output)
    assert not find_demo_cprs(output), "a CPR number from the landing zone in the output"


@pytest.mark.integration  # the real refresh, with Prefect and a warehouse
def test_broken_resends_are_rejected_and_the_published_observations_stay(warehouse, refresh_env, capfd, find_demo_cprs):
    """The bad grades are newer than the delivery in force for their school year: rejected, they
    replace nothing."""
    bad_grades = grades(school_year=warehouse.school_year())
    cell(2, "karakter", "2")(bad_grades)
    no_children = VALID["childcare"]()
    without_file("boern_nov.csv")(no_children)
    before = warehouse.observations()
    with resent(warehouse.landing, bad_grades, no_children):
        code, output = warehouse.refresh(capfd)
    assert code == 1, output
    assert f"REJECTED {bad_grades.shown()}: rule 'karakter is on the 7-point scale" in output
    assert "in column 'karakter' at row 4" in output
    assert f"REJECTED {no_children.shown()}: rule 'folder holds exactly one file matching 'boern*.csv''" in output
    assert_clean(output, find_demo_cprs)
    assert warehouse.observations() == before
    for spec in (bad_grades, no_children):
        [(status, message)] = warehouse.statuses(spec.shown()).items()
        assert status == "rejected" and message.startswith(f"{spec.shown()}: rule ")
    [page] = (refresh_env / "validations" / "grades").rglob("grades_karakterer.csv.html")
    assert "karakter is on the 7-point scale" in page.read_text(encoding="utf-8")
    assert (refresh_env / "index.html").is_file()
    for page in refresh_env.rglob("*.html"):
        assert_clean(page.read_text(encoding="utf-8"), find_demo_cprs)


@pytest.mark.integration  # the real refresh, with Prefect and a warehouse
def test_a_corrected_resend_supersedes_the_older_delivery_and_owner_files_are_ignored(warehouse, capfd, find_demo_cprs):
    """A rejected re-send replaces nothing (the test above); a valid one replaces the delivery in
    force for its reference date, which stays traceable as superseded."""
    school_year = warehouse.school_year()
    corrected = grades("karakterer_rettet.csv", school_year)
    others = warehouse.observations(without="1.1")
    litter = [
        warehouse.landing / "grades" / name for name in ("~$karakterer.xlsx", ".~lock.karakterer.csv#", "Thumbs.db")
    ]
    for path in litter:
        path.write_bytes(b"\x00 not a delivery")
    corrected.write(warehouse.landing)  # stays: the landing zone keeps the corrected re-send
    try:
        code, output = warehouse.refresh(capfd)
    finally:
        for path in litter:
            path.unlink()
    assert code == 0, output
    assert_clean(output, find_demo_cprs)
    assert warehouse.statuses(corrected.shown()) == {"loaded": None}
    assert warehouse.statuses(f"grades/{warehouse.original_grades.name}") == {
        "superseded": f"replaced by {corrected.shown()}"
    }
    lineage = warehouse.query(
        "SELECT DISTINCT delivery_name FROM barometer_observation WHERE indicator_code = '1.1' "
        "AND reference_date = :day",
        day=f"{int(school_year[:4]) + 1}-06-30",
    )
    assert lineage["delivery_name"].tolist() == [corrected.shown()]
    assert warehouse.observations(without="1.1") == others
    names = set(warehouse.query("SELECT name FROM barometer_delivery")["name"])
    assert not names & {f"grades/{path.name}" for path in litter}


@contextmanager
def answering(stub_statbank, status: int, content_type: str, body: bytes) -> Iterator[str]:
    """The StatBank impostor giving every request the same answer; yields its base URL."""
    with stub_statbank((status, content_type, body, 0.0)) as (url, _):
        yield url


@contextmanager
def without_variable(statbank_dir: Path, target: Path, variable: str) -> Iterator[str]:
    """The StatBank stand-in serving RAS201 as if its tableinfo had lost `variable`."""
    shutil.copytree(statbank_dir, target)
    info_file = tableinfo_path(target, "RAS201")
    info = json.loads(info_file.read_text(encoding="utf-8"))
    info["variables"] = [v for v in info["variables"] if v["id"] != variable]
    info_file.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    with serve(target) as url:
        yield url


STATBANK_FAILURES = {
    "outage (always 503)": (
        lambda stub, tmp, demo: answering(stub, 503, "text/plain", b"Service Unavailable"),
        "the StatBank API answers",
    ),
    "tableinfo lost a variable": (
        lambda stub, tmp, demo: without_variable(demo / "statbank", tmp / "statbank", "HERKOMST"),
        "has variable HERKOMST",
    ),
    "an HTML page with status 200": (
        lambda stub, tmp, demo: answering(stub, 200, "text/html", b"<!DOCTYPE html><html><body>Log ind</body></html>"),
        "tableinfo answer is JSON",
    ),
}


@pytest.mark.integration  # the real refresh, with Prefect and a warehouse
@pytest.mark.parametrize("failure", STATBANK_FAILURES)
def test_a_statbank_failure_is_rejected_and_employment_stays_published(
    warehouse, demo_data, tmp_path, capfd, find_demo_cprs, stub_statbank, failure
):
    server, rule = STATBANK_FAILURES[failure]
    before = warehouse.observations()
    with server(stub_statbank, tmp_path, demo_data) as url:
        code, output = warehouse.refresh(capfd, statbank_url=url)
    assert code == 1, output
    assert "REJECTED StatBank RAS201: rule '" in output and rule in output
    assert_clean(output, find_demo_cprs)
    assert warehouse.observations() == before
    assert rule in warehouse.statuses("StatBank RAS201")["rejected"]
