"""Privacy by construction, checked on a real run of `barometer refresh` in a subprocess whose
HOME, PREFECT_HOME, TMPDIR and working directory lie in one folder: after it, no file there
(Prefect's database, the SQLite warehouse, anything temporary) and none of its output holds a
delivered CPR number (with or without hyphen), a pseudonym or the key. Small district cells are
suppressed; without the key nothing is read; the key may come from a Prefect Secret block.

The failure messages here give counts and file names only: never a CPR number or a pseudonym.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from barometer.config import source_config
from barometer.sources import youth_education
from barometer.sources.errors import MissingKeyError
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.youth_education import COMPLETED, ENROLLED, NOT_ENROLLED
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.integration

KEY = "barometer-privacy-test-key"
EDITION = "2013-S2"  # every demo delivery is in force
BAROMETER = str(Path(sys.executable).with_name("barometer"))
SECRET_BLOCK = source_config("privacy")["pseudonym_key_secret_block"]
CPR_SHAPED = re.compile(rb"(?=(\d{6}-?\d{4}))")  # overlapping: a number inside a longer one counts
HEX_64 = re.compile(rb"(?=([0-9a-f]{64}))")

# A youth-education delivery for 1 October 2009 (before the demo's first), Danish-origin
# 15-19 year-olds per district: (completed, enrolled, not enrolled).
OCTOBER_2009 = datetime(2009, 10, 1)
DISTRICTS = {"Indre By": (1, 1, 1), "Østerbro": (2, 2, 2), "Nørrebro": (9, 6, 5)}
# Rejected variants of it: each breaks one rule in a way a careless message would quote a value.
REJECTED = {
    "status_2009_dublet.xlsx": "duplicate person",
    "status_2009_bydel.xlsx": "CPR number as district",
    "status_2009_cpr.xlsx": "CPR number that is no date",
}


@dataclass
class Run:
    """What the module's one refresh left behind."""

    root: Path  # HOME, PREFECT_HOME, TMPDIR, working directory and warehouse: all the run may write
    landing: Path
    returncode: int
    output: str  # stdout and stderr
    cpr_numbers: set[str]  # delivered, as ten digits
    pseudonyms: set[str]  # of those numbers, under KEY

    @property
    def warehouse(self) -> str:
        return f"sqlite:///{self.root / 'warehouse.sqlite'}"


def youth_rows() -> list[list]:
    """29 persons born 1992 (17 on the reference date), each with a CPR number of their own."""
    statuses = (COMPLETED, ENROLLED, NOT_ENROLLED)
    rows = []
    for district, counts in DISTRICTS.items():
        for status, count in zip(statuses, counts, strict=True):
            for _ in range(count):
                born = date(1992, 1 + len(rows) // 28, 1 + len(rows) % 28)
                rows.append(
                    [
                        f"{born:%d%m%y}-{1000 + len(rows)}",
                        datetime(born.year, born.month, born.day),
                        "Dansk oprindelse",
                        district,
                        status,
                        OCTOBER_2009,
                    ]
                )
    return rows


def write_workbook(path: Path, rows: list[list]) -> None:
    workbook = Workbook()
    workbook.active.title = youth_education.SPEC.format.sheet
    workbook.active.append(youth_education.SPEC.table("youth_education").headers)
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)


def write_youth_deliveries(folder: Path) -> None:
    """The 2009 delivery, and its three rejected variants."""
    rows = youth_rows()
    write_workbook(folder / "status_2009.xlsx", rows)
    write_workbook(folder / "status_2009_dublet.xlsx", rows + [rows[0]])
    write_workbook(folder / "status_2009_bydel.xlsx", [rows[0][:3] + [rows[0][0]] + rows[0][4:]] + rows[1:])
    write_workbook(folder / "status_2009_cpr.xlsx", [["310292-1000"] + rows[0][1:]] + rows[1:])


def isolated_environment(root: Path, **variables: str) -> dict[str, str]:
    """This process's environment without Prefect or barometer settings, with HOME, PREFECT_HOME
    and TMPDIR inside `root`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BAROMETER_"))}
    for name, folder in {"HOME": "home", "PREFECT_HOME": "prefect", "TMPDIR": "tmp"}.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        environment[name] = str(root / folder)
    return environment | variables


@pytest.fixture(scope="module")
def run(tmp_path_factory, demo_data, statbank_url) -> Run:
    """One refresh of the demo plus the 2009 deliveries, through the CLI, with its own Prefect.
    The delivered numbers are collected while it runs (reading the workbooks takes a while)."""
    base = tmp_path_factory.mktemp("privacy")
    landing, root, output = base / "landing", base / "run", base / "output.txt"
    shutil.copytree(demo_data / "landing", landing)
    write_youth_deliveries(landing / "youth_education")
    # Orchestrated by Prefect (a temporary server, as without PREFECT_API_URL it is not by
    # default), so that Prefect's own database is among the files searched.
    environment = isolated_environment(root, BAROMETER_PSEUDONYM_KEY=KEY, BAROMETER_ORCHESTRATION="prefect")
    with output.open("w") as sink:
        process = subprocess.Popen(
            [
                BAROMETER,
                "refresh",
                "--edition",
                EDITION,
                "--landing",
                str(landing),
                "--warehouse",
                f"sqlite:///{root / 'warehouse.sqlite'}",
                "--statbank-url",
                statbank_url,
            ],
            cwd=root,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        cpr_numbers = delivered_cpr_numbers(p for p in landing.rglob("*") if p.is_file())
        pseudonyms = set(PseudonymKey(KEY).pseudonymise(pd.Series(sorted(cpr_numbers))))
        returncode = process.wait(timeout=900)
    return Run(root, landing, returncode, output.read_text(), cpr_numbers, pseudonyms)


def cell_values(path: Path):
    """Header and rows of each table in a delivered CSV (';' or ',', UTF-8 or cp1252) or workbook."""
    if path.suffix.lower() == ".xlsx":
        workbook = load_workbook(path, read_only=True)
        try:
            for sheet in workbook:
                rows = sheet.iter_rows(values_only=True)
                yield next(rows, ()), list(rows)
        finally:
            workbook.close()
    elif path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = raw.decode("cp1252")
        delimiter = ";" if ";" in content.partition("\n")[0] else ","
        rows = csv.reader(io.StringIO(content), delimiter=delimiter)
        yield next(rows, []), list(rows)


def delivered_cpr_numbers(paths: Iterable[Path]) -> set[str]:
    """Every value in a column named cpr/CPR of the delivered files, as its ten digits."""
    numbers = set()
    for path in paths:
        for header, rows in cell_values(path):
            columns = [i for i, name in enumerate(header) if str(name or "").strip().lower() == "cpr"]
            numbers.update(str(row[i]).strip() for row in rows for i in columns if i < len(row) and row[i])
    malformed = sum(not re.fullmatch(r"\d{6}-?\d{4}", number) for number in numbers)
    assert malformed == 0, f"{malformed} delivered CPR values are not CPR-shaped: the byte search would miss them"
    return {number.replace("-", "") for number in numbers}


def contents(path: Path) -> bytes:
    """A file's bytes; a zip's (e.g. .xlsx) or gzip's unpacked, so compression hides nothing."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return b"\n".join(archive.read(member) for member in archive.namelist())
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def personal_values_in(data: bytes, cpr_numbers: set[str], pseudonyms: set[str]) -> int:
    """How many of the CPR numbers (with or without hyphen) and pseudonyms occur in `data`."""
    numbers = {match.replace(b"-", b"").decode() for match in CPR_SHAPED.findall(data)}
    hashes = {match.decode() for match in HEX_64.findall(data.lower())}
    return len(numbers & cpr_numbers) + len(hashes & pseudonyms)


def redacted(output: str) -> str:
    """The end of a run's output, safe to show in a failure message."""
    return re.sub(r"\d{6}-?\d{4}|[0-9a-fA-F]{64}", "<redacted>", output)[-3000:]


def assert_contains(text: str, part: str) -> None:
    """Fails showing `text` redacted (a plain assert would show it whole)."""
    if part not in text:
        pytest.fail(f"{part!r} not in: {redacted(text)}")


def test_refresh_leaves_no_cpr_number_pseudonym_or_key_in_any_file_or_output(run):
    assert run.returncode == 1, redacted(run.output)  # the three variants were rejected
    for name in REJECTED:
        assert_contains(run.output, f"REJECTED youth_education/{name}")
    written = {p.relative_to(run.root).as_posix(): contents(p) for p in sorted(run.root.rglob("*")) if p.is_file()}
    assert {"warehouse.sqlite", "prefect/prefect.db"} <= set(written), "the run wrote its databases here"
    prefect_records = b"".join(data for name, data in written.items() if name.startswith("prefect/prefect.db"))
    assert b"status_2009_bydel.xlsx" in prefect_records, "the rejections reached Prefect's database"

    leaks = {name: personal_values_in(data, run.cpr_numbers, run.pseudonyms) for name, data in written.items()}
    leaks["output"] = personal_values_in(run.output.encode(), run.cpr_numbers, run.pseudonyms)
    assert {name: count for name, count in leaks.items() if count} == {}
    holding_key = [name for name, data in written.items() if KEY.encode() in data]
    assert holding_key == [] and KEY not in run.output


def test_the_search_finds_what_it_looks_for(run):
    """The search is not blind: it finds every number of a delivered workbook (zipped) and of a
    delivered cp1252 export, and a pseudonym where one is written."""
    for path in (run.landing / "youth_education" / "status_2009.xlsx", next((run.landing / "grades").glob("*.csv"))):
        numbers = delivered_cpr_numbers([path])
        found, delivered = personal_values_in(contents(path), numbers, set()), len(numbers)
        assert found == delivered > 0, path.name
    pseudonym = next(iter(run.pseudonyms))
    assert personal_values_in(b'{"person_id": "' + pseudonym.upper().encode() + b'"}', set(), run.pseudonyms) == 1


def test_rejections_name_file_rule_and_rows_but_no_value(run):
    engine = create_engine(run.warehouse)
    with engine.connect() as connection:
        rejected = dict(
            connection.execute(text("SELECT name, message FROM barometer_delivery WHERE status = 'rejected'")).all()
        )
    engine.dispose()
    assert sorted(rejected) == sorted(f"youth_education/{name}" for name in REJECTED)
    assert_contains(
        rejected["youth_education/status_2009_dublet.xlsx"], "'one row per person' broken in column 'CPR' at rows 2, 31"
    )
    assert_contains(rejected["youth_education/status_2009_bydel.xlsx"], "1 value(s) with digits not shown")
    assert_contains(rejected["youth_education/status_2009_cpr.xlsx"], "column 'CPR' at row 2")


def test_a_district_of_three_persons_is_suppressed_and_a_large_one_published(run):
    engine = create_engine(run.warehouse)
    with engine.connect() as connection:
        cells = (
            pd.read_sql(
                text(
                    "SELECT area_code, measure, value, numerator, denominator, n, obs_status "
                    "FROM barometer_observation "
                    "WHERE indicator_code = '1.2' AND group_code = 'danish' AND reference_date = '2009-10-01'"
                ),
                connection,
            )
            .set_index(["area_code", "measure"])
            .sort_index()
        )
    engine.dispose()
    # Indre By (101-01): 3 persons, below 5: suppressed. Østerbro (101-02), the smallest other
    # district, with it: otherwise the city minus the published districts would give Indre By.
    for area in ("101-01", "101-02"):
        hidden = cells.loc[area]
        assert (hidden["obs_status"] == "suppressed").all()
        assert hidden[["value", "numerator", "denominator", "n"]].isna().all().all()
    # Nørrebro (101-03): 20 persons, 9 completed and 6 enrolled; the city: 29 persons, 12 and 9.
    published = {
        area: cells.loc[area]
        .apply(lambda row: (round(row["value"], 2), row["numerator"], row["denominator"], row["obs_status"]), axis=1)
        .to_dict()
        for area in ("101-03", "101")
    }
    assert published == {
        "101-03": {
            "completed": (45.0, 9, 20, "normal"),
            "enrolled": (30.0, 6, 20, "normal"),
            "value": (75.0, 15, 20, "normal"),
        },
        "101": {
            "completed": (41.38, 12, 29, "normal"),
            "enrolled": (31.03, 9, 29, "normal"),
            "value": (72.41, 21, 29, "normal"),
        },
    }
    assert cells.loc[("101-03", "value"), "n"] == 20 and cells.loc[("101", "value"), "n"] == 29


def test_without_the_key_the_refresh_refuses_and_says_why(prefect_server, tmp_path):
    from prefect.settings import PREFECT_API_URL

    landing = tmp_path / "landing"
    (landing / "youth_education").mkdir(parents=True)
    write_youth_deliveries(landing / "youth_education")
    environment = isolated_environment(tmp_path, PREFECT_API_URL=PREFECT_API_URL.value())
    process = subprocess.run(
        [BAROMETER, "refresh", "--edition", EDITION, "--landing", str(landing)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 2
    assert "BAROMETER_PSEUDONYM_KEY is not set" in process.stderr and SECRET_BLOCK in process.stderr
    assert not (tmp_path / "barometer.sqlite").exists(), "nothing was written to the default warehouse"


def test_the_key_may_come_from_the_prefect_secret_block(prefect_server, monkeypatch):
    from barometer.config import RunRequest
    from barometer.config.run import pseudonym_key
    from barometer.flows.run import require_key
    from prefect.blocks.system import Secret

    monkeypatch.delenv("BAROMETER_PSEUDONYM_KEY", raising=False)
    with pytest.raises(MissingKeyError, match=SECRET_BLOCK):
        pseudonym_key({})
    Secret(value="key-in-a-block").save(SECRET_BLOCK, overwrite=True)
    try:
        assert pseudonym_key({}).version == PseudonymKey("key-in-a-block").version
        require_key(RunRequest.build({}))  # the CLI's early check accepts the block
        environment = {"BAROMETER_PSEUDONYM_KEY": "key-in-the-environment"}
        assert pseudonym_key(environment).version == PseudonymKey("key-in-the-environment").version, "the variable wins"
    finally:
        Secret.delete(SECRET_BLOCK)
