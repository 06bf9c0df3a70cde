"""Bad deliveries get a clear error, and nothing published is lost.

A corpus of small broken deliveries, one per rule, for every file source, written here in the
sources' real formats: each is checked with `barometer validate` (exit 1, the summary names
file, rule and column, never a traceback or a CPR number). Then the real refresh, through the
CLI, on a landing zone refreshed once per module: broken re-sends and StatBank failures end
the run non-zero, leave the published observations byte-identical and are recorded as rejected;
owner files are ignored; a corrected re-send supersedes the older delivery.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from barometer.cli import app
from barometer.config import source_config
from barometer.demo.statbank_server import serve, tableinfo_path


# --- valid deliveries in the real formats ---------------------------------------------------

@dataclass
class File:
    """One delivered file: a table, how it is written, and damage done to its bytes afterwards."""

    header: list[str]
    rows: list[list]
    encoding: str = "utf-8"
    sep: str = ";"
    quoted: bool = False
    sheet: str | None = None  # set: an .xlsx workbook with this sheet
    above: list[list] = field(default_factory=list)  # title and notes above an .xlsx table
    damage: Callable[[Path], None] | None = None

    def write(self, path: Path) -> None:
        if self.sheet:
            workbook = Workbook()
            workbook.active.title = self.sheet
            for row in [*self.above, self.header, *self.rows]:
                workbook.active.append(row)
            workbook.save(path)
        else:
            field_text = (lambda v: '"' + str(v).replace('"', '""') + '"') if self.quoted else str
            lines = [self.sep.join(field_text(v) for v in row) for row in [self.header, *self.rows]]
            path.write_bytes(("\r\n".join(lines) + "\r\n").encode(self.encoding))
        if self.damage:
            self.damage(path)


@dataclass
class Spec:
    """A delivery: a file (`entry` is its name) or a folder of files (`entry` is the folder)."""

    source: str
    entry: str
    files: dict[str, File]

    @property
    def folder(self) -> str:
        return source_config(self.source)["landing"]

    def write(self, landing: Path) -> Path:
        target = landing / self.folder / self.entry
        if self.entry in self.files:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.files[self.entry].write(target)
        else:
            target.mkdir(parents=True)
            for name, file in self.files.items():
                file.write(target / name)
        return target

    def shown(self, file: str | None = None) -> str:
        """The name a summary gives a file of this delivery."""
        return "/".join([self.folder, self.entry, *([file] if file and file != self.entry else [])])


# Synthetic CPR numbers of real dates (7th digit and year give the century); no real person's.
PUPILS = ["150396-1235", "2207961344", "030496-2141", "111196-3356"]
YOUNG = ["150395-1234", "010794-2345", "241296-3456"]
SCHOOL_CHILDREN = ["010503-4001", "120604-4012", "230905-4023", "050706-4034"]
CHILDREN = ["120608-4012", "030910-4021", "150511-4033", "010102-4045"]
CPRS = PUPILS + YOUNG + SCHOOL_CHILDREN + CHILDREN
GRADE_COLUMNS = ["cpr", "institutionsnummer", "skoleaar", "fag", "karakter", "tosproget", "foraeldre_uddannelse",
                 "foraeldre_beskaeftigelse", "husstandsindkomst_decil"]


def grades(name: str = "karakterer.csv", school_year: str = "2011/12") -> Spec:
    exams = [("Dansk, læsning", "12", "10", "7", "4"), ("Matematik, færdighedsregning", "7", "02", "4", "IM")]
    flags = ["N", "N", "J", "J"]
    rows = [[cpr, "101001", school_year, subject, marks[i], flags[i], "Gymnasial", "Beskæftiget", "5"]
            for subject, *marks in exams for i, cpr in enumerate(PUPILS)]
    return Spec("grades", name, {name: File(list(GRADE_COLUMNS), rows, encoding="cp1252")})


def youth_education() -> Spec:
    on = date(2012, 10, 1)
    rows = [[YOUNG[0], date(1995, 3, 15), "Dansk oprindelse", "Østerbro", "Gennemført ungdomsuddannelse", on],
            [YOUNG[1], date(1994, 7, 1), "Efterkommer, ikke-vestlig", "Nørrebro", "I gang med ungdomsuddannelse", on],
            [YOUNG[2], None, "Indvandrer, vestlig", "Vesterbro/Kgs. Enghave", "Ikke i gang", on]]
    header = ["CPR", "Fødselsdato", "Herkomst", "Bydel", "Status", "Opgørelsesdato"]
    return Spec("youth_education", "status.xlsx", {"status.xlsx": File(header, rows, sheet="Status")})


def school_enrolment() -> Spec:
    schools = [["101001", "Skolen ved Søerne", "Østerbro", "Folkeskole"],
               ["101002", "Nørrebro Park Skole", "Nørrebro", "Folkeskole"],
               ["280001", "Privatskolen", "", "Privatskole"]]
    pupils = [[SCHOOL_CHILDREN[0], "101001", "Østerbro", "N", "2012-11-05"],
              [SCHOOL_CHILDREN[1], "101002", "Nørrebro", "J", "2012-11-05"],
              [SCHOOL_CHILDREN[2], "280001", "Nørrebro", "J", "2012-11-05"],
              [SCHOOL_CHILDREN[3], "", "Valby", "N", "2012-11-05"]]
    return Spec("school_enrolment", "elevudtraek_nov", {
        "skoler_nov.csv": File(["institutionsnummer", "skolenavn", "bydel", "skoletype"], schools, "utf-8-sig"),
        "elever_nov.csv": File(["cpr", "institutionsnummer", "bopaelsbydel", "tosproget", "opgoerelsesdato"],
                               pupils, "utf-8-sig")})


def childcare() -> Spec:
    institutions = [["1001", "Børnehuset Mælkebøtten", "Børnehave", "Nørrebro"],
                    ["1002", "Vuggestuen Solsikken", "Vuggestue", "Østerbro"]]
    children = [[CHILDREN[0], "2008-06-12", "Dansk oprindelse", "Nørrebro", "1001", "2012-11-01"],
                [CHILDREN[1], "", "Efterkommer, ikke-vestlig", "Nørrebro", "1001", "2012-11-01"],
                [CHILDREN[2], "2011-05-15", "Indvandrer, vestlig", "Østerbro", "1002", "2012-11-01"],
                [CHILDREN[3], "2002-01-01", "Dansk oprindelse", "Østerbro", "", "2012-11-01"]]
    return Spec("childcare", "pladsanvisning_nov", {
        "institutioner_nov.csv": File(["institution_id", "navn", "type", "bydel"], institutions, sep=",",
                                      quoted=True),
        "boern_nov.csv": File(["cpr", "foedselsdato", "herkomst", "bopaelsbydel", "institution_id",
                               "opgoerelsesdato"], children, sep=",", quoted=True)})


def survey() -> Spec:
    header = ["respondent_id", "interviewdato", "vaegt", "gruppe", "bydel", "q_tillid_naboer", "q_tillid_kommune",
              "q_indflydelse", "q_hoerer_til", "q_diskrimination_omfang", "q_diskrimineret_12m"]
    rows = [["501", "2012-10-02", "1,0", "minoritet", "Nørrebro", "1", "2", "3", "4", "5", "1"],
            ["502", "2012-11-20", "1,25", "majoritet", "", "5", "9", "", "4", "1", "2"],
            ["503", "2012-10-15", "0,8", "majoritet", "Valby", "3", "3", "3", "3", "3", "9"]]
    return Spec("survey", "besvarelser.csv", {"besvarelser.csv": File(header, rows)})


def safety() -> Spec:
    header = ["Område-ID", "Område", "Bydel", "År", "Indeks", "Anmeldelser pr. 1.000 indb.", "Utryghed (%)"]
    rows = [["A01", "Indre By Nord", "Indre By", 2012, 132.4, 45.1, 20.5],
            ["A02", "Mjølnerparken", "Nørrebro", 2012, "151,2", 60.0, 31.0],
            ["A03", "Valby Syd", "Valby", 2012, 88, 20.3, 9.9]]
    above = [["Tryghedsindeks 2012"], ["Kilde: Center for Kriminalforebyggelse"], [None]]
    return Spec("safety", "tryghedsindeks.xlsx", {"tryghedsindeks.xlsx": File(header, rows, sheet="Tryghedsindeks",
                                                                            above=above)})


def workforce() -> Spec:
    header = ["medarbejder_nr", "forvaltning", "stillingsbetegnelse", "leder", "herkomst", "opgoerelsesdato"]
    rows = [["104711", "BUF", "Pædagog", "N", "dansk", "2012-10-01"],
            ["104712", "BUF", "Afdelingsleder", "J", "ikke-vestlig", "2012-10-01"],
            ["104713", "SUF", "Sygeplejerske", "N", "uoplyst", "2012-10-01"]]
    return Spec("workforce", "personale.csv", {"personale.csv": File(header, rows)})


VALID = {spec().source: spec for spec in (grades, youth_education, school_enrolment, childcare, survey, safety,
                                          workforce)}


# --- ways to break them ---------------------------------------------------------------------

Change = Callable[[Spec], None]


def the_file(spec: Spec, name: str | None) -> File:
    return spec.files[name or next(iter(spec.files))]


def cell(row: int, column: str, value, name: str | None = None) -> Change:
    """Row `row` (0 = the first data row, file row 2) gets `value` in `column`."""
    def change(spec: Spec) -> None:
        file = the_file(spec, name)
        file.rows[row][file.header.index(column)] = value
    return change


def every_row(column: str, value, name: str | None = None) -> Change:
    def change(spec: Spec) -> None:
        file = the_file(spec, name)
        for row in file.rows:
            row[file.header.index(column)] = value
    return change


def extra_row(copy_of: int, name: str | None = None, **values) -> Change:
    """A copy of row `copy_of` added at the end, with some columns changed."""
    def change(spec: Spec) -> None:
        file = the_file(spec, name)
        row = list(file.rows[copy_of])
        for column, value in values.items():
            row[file.header.index(column)] = value
        file.rows.append(row)
    return change


def without_column(column: str, name: str | None = None) -> Change:
    def change(spec: Spec) -> None:
        file = the_file(spec, name)
        index = file.header.index(column)
        file.header.pop(index)
        for row in file.rows:
            row.pop(index)
    return change


def without_file(name: str) -> Change:
    return lambda spec: spec.files.pop(name)


def written(name: str | None = None, **options) -> Change:
    """The file written another way: another encoding, separator, sheet name, header rows, …"""
    def change(spec: Spec) -> None:
        spec.files[name or next(iter(spec.files))] = replace(the_file(spec, name), **options)
    return change


def damaged(damage: Callable[[Path], None], name: str | None = None) -> Change:
    return written(name, damage=damage)


def cut_off(keep: int) -> Callable[[Path], None]:
    """The upload stopped `keep` bytes before the end (mid-row, or mid-character)."""
    return lambda path: path.write_bytes(path.read_bytes()[:-keep])


def emptied(path: Path) -> None:
    path.write_bytes(b"")


def header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes().split(b"\r\n")[0] + b"\r\n")


def not_a_workbook(path: Path) -> None:
    path.write_bytes("CPR;Fødselsdato\r\n".encode())


def corrupt_sheet(path: Path) -> None:
    """The workbook's zip is intact, but the sheet's XML inside it is cut in half."""
    with zipfile.ZipFile(path) as original:
        parts = {item.filename: original.read(item.filename) for item in original.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet][: len(parts[sheet]) // 2]
    with zipfile.ZipFile(path, "w") as rewritten:
        for name, content in parts.items():
            rewritten.writestr(name, content)


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
    "bilingual flag not J/N": case("grades", cell(3, "tosproget", "Ja"), rule="J (bilingual) or N",
                                   column="tosproget"),
    "pupil under two schools": case("grades", cell(4, "institutionsnummer", "101002"),
                                    rule="one school per pupil", column="institutionsnummer"),
    "exam row twice": case("grades", extra_row(1), rule="one row per pupil and exam", column="cpr, fag"),
    "karakter column missing": case("grades", without_column("karakter"), rule="required column present",
                                    column="karakter"),
    "two school years": case("grades", cell(5, "skoleaar", "2012/13"), rule="one reference date per delivery",
                             column="skoleaar"),
    "malformed CPR number": case("grades", cell(6, "cpr", "31029-1234"), rule="CPR number has the form",
                                 column="cpr"),
    "UTF-8 where Windows-1252 is delivered": case("grades", written(encoding="utf-8"),
                                                  rule="foraeldre_beskaeftigelse is",
                                                  column="foraeldre_beskaeftigelse"),
    "upload cut off mid-row": case("grades", damaged(cut_off(30)), rule="every row has the header's 9 fields",
                                   column="tosproget"),
    # youth_education: .xlsx, sheet Status
    "unknown origin": case("youth_education", cell(1, "Herkomst", "Udlænding"), rule="five categories",
                           column="Herkomst"),
    "unknown status": case("youth_education", cell(0, "Status", "Afbrudt"), rule="completed, enrolled",
                           column="Status"),
    "born after the reference date": case("youth_education", cell(0, "Fødselsdato", date(2013, 1, 5)),
                                          rule="not after the reference date", column="Fødselsdato"),
    "too old for the register": case("youth_education", cell(1, "Fødselsdato", date(1980, 7, 1)),
                                     rule="14-25 band", column="Fødselsdato"),
    "person twice": case("youth_education", extra_row(0), rule="one row per person", column="CPR"),
    "unknown district": case("youth_education", cell(2, "Bydel", "Frederiksberg"),
                             rule="ten official districts", column="Bydel"),
    "day and month swapped in the reference date": case("youth_education", every_row("Opgørelsesdato", "01-10-2012"),
                                                        rule="reference date is a date", column="Opgørelsesdato"),
    "sheet renamed": case("youth_education", written(sheet="Ark1"), rule="sheet named 'Status'", column=None),
    "damaged sheet XML": case("youth_education", damaged(corrupt_sheet), rule="readable .xlsx workbook",
                              column=None),
    # school_enrolment: a folder of two UTF-8-with-BOM CSVs
    "pupil's school not listed": case("school_enrolment", cell(0, "institutionsnummer", "109999", "elever_nov.csv"),
                                      file="elever_nov.csv", rule="school list", column="institutionsnummer"),
    "unknown school type": case("school_enrolment", cell(2, "skoletype", "Efterskole", "skoler_nov.csv"),
                                file="skoler_nov.csv", rule="Folkeskole, Privatskole", column="skoletype"),
    "too young for school": case("school_enrolment", cell(3, "cpr", "010110-4056", "elever_nov.csv"),
                                 file="elever_nov.csv", rule="6-16 band", column="cpr"),
    "school list missing": case("school_enrolment", without_file("skoler_nov.csv"),
                                rule="exactly one file matching 'skoler*.csv'", column=None),
    "Windows-1252 bytes in a UTF-8 file": case("school_enrolment", written("elever_nov.csv", encoding="cp1252"),
                                               file="elever_nov.csv", rule="encoded as utf-8",
                                               column="bopaelsbydel"),
    # childcare: a folder of two quoted, comma-separated UTF-8 CSVs
    "child's institution not listed": case("childcare", cell(2, "institution_id", "9999", "boern_nov.csv"),
                                           file="boern_nov.csv", rule="listed in the institutions file",
                                           column="institution_id"),
    "institution twice": case("childcare", extra_row(0, "institutioner_nov.csv"), file="institutioner_nov.csv",
                              rule="one row per institution", column="institution_id"),
    "semicolons where commas are delivered": case("childcare", written("boern_nov.csv", sep=";"),
                                                  file="boern_nov.csv", rule="','-separated", column="cpr"),
    "two reference dates": case("childcare", cell(3, "opgoerelsesdato", "2012-02-01", "boern_nov.csv"),
                                file="boern_nov.csv", rule="one reference date", column="opgoerelsesdato"),
    "a reference date outside February and November": case(
        "childcare", every_row("opgoerelsesdato", "2012-12-01", "boern_nov.csv"), file="boern_nov.csv",
        rule="February or November", column="opgoerelsesdato"),
    "unknown institution type": case("childcare", cell(1, "type", "Dagpleje", "institutioner_nov.csv"),
                                     file="institutioner_nov.csv", rule="six kinds", column="type"),
    # survey: UTF-8 CSV, decimal comma
    "weight zero": case("survey", cell(1, "vaegt", "0"), rule="weight (vaegt) is positive", column="vaegt"),
    "weight with a decimal point": case("survey", cell(2, "vaegt", "0.8"), rule="decimal comma", column="vaegt"),
    "answer code off the scale": case("survey", cell(0, "q_tillid_naboer", "7"), rule="answer code",
                                      column="q_tillid_naboer"),
    "unknown group": case("survey", cell(1, "gruppe", "ukendt"), rule="minoritet or majoritet", column="gruppe"),
    "respondent twice": case("survey", extra_row(0), rule="one row per respondent", column="respondent_id"),
    "empty file": case("survey", damaged(emptied), rule="file is not empty", column=None),
    # safety: .xlsx with a title above the table
    "area id twice": case("safety", cell(2, "Område-ID", "A01"), rule="Område-ID unique", column="Område-ID"),
    "index not a number": case("safety", cell(1, "Indeks", "ca. 140"), rule="Indeks is a number", column="Indeks"),
    "no header row": case("safety", written(header=["Områdenr", "Område", "Bydel", "År", "Indeks",
                                                    "Anmeldelser pr. 1.000 indb.", "Utryghed (%)"]),
                          rule="a row starting with 'Område-ID'", column="Område-ID"),
    "not a workbook": case("safety", damaged(not_a_workbook), rule="readable .xlsx workbook", column=None),
    # workforce: UTF-8 CSV
    "manager flag not J/N": case("workforce", cell(0, "leder", "Ja"), rule="leder is J or N", column="leder"),
    "unknown origin code": case("workforce", cell(2, "herkomst", "ukendt"), rule="herkomst is dansk",
                                column="herkomst"),
    "employee twice": case("workforce", extra_row(1), rule="one row per employee", column="medarbejder_nr"),
    "header only": case("workforce", damaged(header_only), rule="file has data rows", column=None),
}


def broken_spec(corpus_case: Case) -> Spec:
    spec = VALID[corpus_case.source]()
    for change in corpus_case.changes:
        change(spec)
    return spec


def assert_safe(output: str) -> None:
    """No traceback, no CPR number (either spelling), no pseudonym."""
    assert "Traceback" not in output
    for cpr in CPRS:
        assert cpr not in output and cpr.replace("-", "") not in output
    assert not re.search(r"\b[0-9a-f]{64}\b", output), "a pseudonym in the output"


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
OBSERVATIONS = ("SELECT * FROM barometer_observation "
                "ORDER BY indicator_code, measure, group_code, area_code, reference_date")


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
        return app(["refresh", "--edition", EDITION, "--landing", str(self.landing), "--warehouse", self.url,
                    "--statbank-url", statbank_url or self.statbank_url], standalone_mode=False) or 0

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
        return dict(zip(rows["status"], rows["message"].where(rows["message"].notna(), None)))


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


def test_broken_resends_are_rejected_and_the_published_observations_stay(warehouse, refresh_env, capfd,
                                                                          find_demo_cprs):
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


def test_a_corrected_resend_supersedes_the_older_delivery_and_owner_files_are_ignored(warehouse, capfd,
                                                                                        find_demo_cprs):
    """A rejected re-send replaces nothing (the test above); a valid one replaces the delivery in
    force for its reference date, which stays traceable as superseded."""
    school_year = warehouse.school_year()
    corrected = grades("karakterer_rettet.csv", school_year)
    others = warehouse.observations(without="1.1")
    litter = [warehouse.landing / "grades" / name for name in ("~$karakterer.xlsx", ".~lock.karakterer.csv#",
                                                                 "Thumbs.db")]
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
        "superseded": f"replaced by {corrected.shown()}"}
    lineage = warehouse.query("SELECT DISTINCT delivery_name FROM barometer_observation WHERE indicator_code = '1.1' "
                              "AND reference_date = :day", day=f"{int(school_year[:4]) + 1}-06-30")
    assert lineage["delivery_name"].tolist() == [corrected.shown()]
    assert warehouse.observations(without="1.1") == others
    names = set(warehouse.query("SELECT name FROM barometer_delivery")["name"])
    assert not names & {f"grades/{path.name}" for path in litter}


@contextmanager
def answering(status: int, content_type: str, body: bytes) -> Iterator[str]:
    """A StatBank impostor on 127.0.0.1 giving every request the same answer; yields its base URL."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def without_variable(statbank_dir: Path, target: Path, variable: str) -> Iterator[str]:
    """The StatBank stand-in serving KAS201 as if its tableinfo had lost `variable`."""
    shutil.copytree(statbank_dir, target)
    info_file = tableinfo_path(target, "KAS201")
    info = json.loads(info_file.read_text(encoding="utf-8"))
    info["variables"] = [v for v in info["variables"] if v["id"] != variable]
    info_file.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    with serve(target) as url:
        yield url


STATBANK_FAILURES = {
    "outage (always 503)": (lambda tmp, demo: answering(503, "text/plain", b"Service Unavailable"),
                            "the StatBank API answers"),
    "tableinfo lost a variable": (lambda tmp, demo: without_variable(demo / "statbank", tmp / "statbank", "HERKOMST"),
                                  "has variable HERKOMST"),
    "an HTML page with status 200": (
        lambda tmp, demo: answering(200, "text/html", b"<!DOCTYPE html><html><body>Log ind</body></html>"),
        "tableinfo answer is JSON"),
}


@pytest.mark.parametrize("failure", STATBANK_FAILURES)
def test_a_statbank_failure_is_rejected_and_employment_stays_published(warehouse, demo_data, tmp_path, capfd,
                                                                       find_demo_cprs, failure):
    server, rule = STATBANK_FAILURES[failure]
    before = warehouse.observations()
    with server(tmp_path, demo_data) as url:
        code, output = warehouse.refresh(capfd, statbank_url=url)
    assert code == 1, output
    assert "REJECTED StatBank KAS201: rule '" in output and rule in output
    assert_clean(output, find_demo_cprs)
    assert warehouse.observations() == before
    assert rule in warehouse.statuses("StatBank KAS201")["rejected"]
