"""Small deliveries in the sources' real formats, valid, and the ways to break them: shared by
test_broken_deliveries.py (the corpus of broken deliveries) and test_validate_cli.py (the
`validate` command's own behaviours). Not a test module: test modules never import each other."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from barometer.sources import childcare as childcare_source
from barometer.sources import grades as grades_source
from barometer.sources import safety as safety_source
from barometer.sources import school_enrolment as school_enrolment_source
from barometer.sources import survey as survey_source
from barometer.sources import workforce as workforce_source
from barometer.sources.registry import landing_folder
from barometer.sources.spec import SourceSpec
from openpyxl import Workbook

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
        return landing_folder(self.source)

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


def spec_csv(source: SourceSpec, table: str, rows: list[list]) -> File:
    """A table of a CSV source with its spec's headers, written in its format."""
    form = source.format
    return File(source.table(table).headers, rows, form.encoding, form.separator, form.quoted)


# Synthetic CPR numbers of real dates (7th digit and year give the century); no real person's.
PUPILS = ["150396-1235", "2207961344", "030496-2141", "111196-3356"]
YOUNG = ["150395-1234", "010794-2345", "241296-3456"]
SCHOOL_CHILDREN = ["010503-4001", "120604-4012", "230905-4023", "050706-4034"]
CHILDREN = ["120608-4012", "030910-4021", "150511-4033", "010102-4045"]
CPRS = PUPILS + YOUNG + SCHOOL_CHILDREN + CHILDREN


def grades(name: str = "karakterer.csv", school_year: str = "2011/12") -> Spec:
    exams = [("Dansk, læsning", "12", "10", "7", "4"), ("Matematik, færdighedsregning", "7", "02", "4", "IM")]
    flags = ["N", "N", "J", "J"]
    rows = [
        [cpr, "101001", school_year, subject, marks[i], flags[i], "Gymnasial", "Beskæftiget", "5"]
        for subject, *marks in exams
        for i, cpr in enumerate(PUPILS)
    ]
    return Spec(
        "grades",
        name,
        {name: File(grades_source.SPEC.table("grades").headers, rows, encoding=grades_source.SPEC.format.encoding)},
    )


def youth_education() -> Spec:
    on = date(2012, 10, 1)
    rows = [
        [YOUNG[0], date(1995, 3, 15), "Dansk oprindelse", "Østerbro", "Gennemført ungdomsuddannelse", on],
        [YOUNG[1], date(1994, 7, 1), "Efterkommer, ikke-vestlig", "Nørrebro", "I gang med ungdomsuddannelse", on],
        [YOUNG[2], None, "Indvandrer, vestlig", "Vesterbro/Kgs. Enghave", "Ikke i gang", on],
    ]
    header = ["CPR", "Fødselsdato", "Herkomst", "Bydel", "Status", "Opgørelsesdato"]
    return Spec("youth_education", "status.xlsx", {"status.xlsx": File(header, rows, sheet="Status")})


def school_enrolment() -> Spec:
    enrolment = school_enrolment_source.SPEC
    schools = [
        ["101001", "Skolen ved Søerne", "Østerbro", "Folkeskole"],
        ["101002", "Nørrebro Park Skole", "Nørrebro", "Folkeskole"],
        ["280001", "Privatskolen", "", "Privatskole"],
    ]
    pupils = [
        [SCHOOL_CHILDREN[0], "101001", "Østerbro", "N", "2012-11-05"],
        [SCHOOL_CHILDREN[1], "101002", "Nørrebro", "J", "2012-11-05"],
        [SCHOOL_CHILDREN[2], "280001", "Nørrebro", "J", "2012-11-05"],
        [SCHOOL_CHILDREN[3], "", "Valby", "N", "2012-11-05"],
    ]
    return Spec(
        "school_enrolment",
        "elevudtraek_nov",
        {
            "skoler_nov.csv": File(enrolment.table("schools").headers, schools, enrolment.format.encoding),
            "elever_nov.csv": File(enrolment.table("pupils").headers, pupils, enrolment.format.encoding),
        },
    )


def childcare() -> Spec:
    institutions = [
        ["1001", "Børnehuset Mælkebøtten", "Børnehave", "Nørrebro"],
        ["1002", "Vuggestuen Solsikken", "Vuggestue", "Østerbro"],
    ]
    children = [
        [CHILDREN[0], "2008-06-12", "Dansk oprindelse", "Nørrebro", "1001", "2012-11-01"],
        [CHILDREN[1], "", "Efterkommer, ikke-vestlig", "Nørrebro", "1001", "2012-11-01"],
        [CHILDREN[2], "2011-05-15", "Indvandrer, vestlig", "Østerbro", "1002", "2012-11-01"],
        [CHILDREN[3], "2002-01-01", "Dansk oprindelse", "Østerbro", "", "2012-11-01"],
    ]
    return Spec(
        "childcare",
        "pladsanvisning_nov",
        {
            "institutioner_nov.csv": spec_csv(childcare_source.SPEC, "institutions", institutions),
            "boern_nov.csv": spec_csv(childcare_source.SPEC, "children", children),
        },
    )


def survey() -> Spec:
    header = survey_source.SPEC.table("survey").headers
    rows = [
        ["501", "2012-10-02", "1,0", "minoritet", "Nørrebro", "1", "2", "3", "4", "5", "1"],
        ["502", "2012-11-20", "1,25", "majoritet", "", "5", "9", "", "4", "1", "2"],
        ["503", "2012-10-15", "0,8", "majoritet", "Valby", "3", "3", "3", "3", "3", "9"],
    ]
    return Spec("survey", "besvarelser.csv", {"besvarelser.csv": File(header, rows)})


def safety() -> Spec:
    rows = [
        ["A01", "Indre By Nord", "Indre By", 2012, 132.4, 45.1, 20.5],
        ["A02", "Mjølnerparken", "Nørrebro", 2012, "151,2", 60.0, 31.0],
        ["A03", "Valby Syd", "Valby", 2012, 88, 20.3, 9.9],
    ]
    above = [["Tryghedsindeks 2012"], ["Kilde: Center for Kriminalforebyggelse"], [None]]
    return Spec(
        "safety",
        "tryghedsindeks.xlsx",
        {
            "tryghedsindeks.xlsx": File(
                safety_source.SPEC.table("safety_areas").headers,
                rows,
                sheet=safety_source.SPEC.format.sheet,
                above=above,
            )
        },
    )


def workforce() -> Spec:
    rows = [
        ["104711", "BUF", "Pædagog", "N", "dansk", "2012-10-01"],
        ["104712", "BUF", "Afdelingsleder", "J", "ikke-vestlig", "2012-10-01"],
        ["104713", "SUF", "Sygeplejerske", "N", "uoplyst", "2012-10-01"],
    ]
    return Spec("workforce", "personale.csv", {"personale.csv": spec_csv(workforce_source.SPEC, "employees", rows)})


VALID = {
    spec().source: spec for spec in (grades, youth_education, school_enrolment, childcare, survey, safety, workforce)
}


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


def assert_safe(output: str) -> None:
    """No traceback, no CPR number (either spelling), no pseudonym."""
    assert "Traceback" not in output
    for cpr in CPRS:
        assert cpr not in output and cpr.replace("-", "") not in output
    assert not re.search(r"\b[0-9a-f]{64}\b", output), "a pseudonym in the output"
