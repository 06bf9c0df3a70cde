"""Benchmark: `barometer refresh` at S × Copenhagen's size, against a DuckDB SQL lower bound.

Run: .venv/bin/python benchmarks/refresh.py [--scale 1] [--repeat 3] [--workdir DIR]
(needs the benchmark extra: .venv/bin/pip install -e '.[bench]')

Writes a landing zone in the real formats with the demo generators, scaled so that --scale 1 is
Copenhagen's real size (issue 10: 75,000 youth-register rows, 95,000 children per day-care
delivery, 73,000 pupils in 101 schools, 5,000 pupils × 8 exams, 45,000 employees, 2,000 survey
respondents, 35 safety areas; --scale 10 ≈ Denmark), every delivery up to the edition's end as
the demo has them, and the demo's StatBank table behind the local stand-in. Then, interleaved,
--repeat times: the refresh as a user runs it (a fresh `barometer refresh` process, fresh
warehouse), the bound (a fresh Python process computing 1.2, 1.3, 1.4, 3.2 and 4.1-4.3 from the
same files in DuckDB SQL), and the refresh again on unchanged inputs (same warehouse). Prints the
medians of wall time, CPU seconds and peak RSS of each process tree, the refresh's stages
(BAROMETER_STAGE_TIMINGS), the ratios, and a check that the bound's numbers are the warehouse's.

The bound does what those indicators need and no more, honestly, and as cheaply as DuckDB can: it
reads every CSV with DuckDB's read_csv (columns named from each source's header, so no sniffing)
and the youth register's workbooks with fastexcel (calamine, the barometer's parser, straight into
Arrow; DuckDB's excel extension would need a download), pseudonymises every CPR and employee number
with a keyed SHA-256 (one per row: the spec's keyed hash at its cheapest, so its pseudonyms are not
the barometer's HMAC; the check compares values, not pseudonyms), checks one row per person and
well-formed CPR numbers, derives ages (birth date delivered, else the CPR number's), maps origins
and district spellings with the project's configuration (once per distinct spelling, not per row),
and computes city and district values. It skips what only the barometer promises: Great
Expectations suites, Data Docs, suppression, editions, lineage and the warehouse load.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
BAROMETER = Path(sys.executable).with_name("barometer")
INSTALL_HINT = "the benchmark needs its extra: .venv/bin/pip install -e '.[bench]'"
SEED = 2013
KEY = "benchmark-key-not-a-secret"
SAMPLE_SECONDS = 0.05
TOLERANCE = 1e-6
STAGES = [
    "imports",
    "orchestration start",
    "read",
    "pseudonymise",
    "validate",
    "compute",
    "suppress",
    "load",
    "artifacts",
    "data docs",
]
BOUND_INDICATORS = ["1.2", "1.3", "1.4", "3.2", "4.1", "4.2", "4.3"]

# Rows of one delivery at --scale 1 (Copenhagen) and in the demo's latest delivery (size 1);
# grades count pupils (about 7.5 exam rows each). Safety's 35 areas are the demo's already and
# do not scale; nor does the StatBank table (its cells do not depend on the population).
COPENHAGEN = {
    "youth_education": 75_000,
    "childcare": 95_000,
    "school_enrolment": 73_000,
    "grades": 5_000,
    "workforce": 45_000,
    "survey": 2_000,
}
DEMO = {
    "youth_education": 18_326,
    "childcare": 6_100,
    "school_enrolment": 27_474,
    "grades": 2_010,
    "workforce": 6_579,
    "survey": 2_025,
}
SCHOOLS = 101  # at --scale 1: the demo's 13 private and special schools, the rest public
DEMO_PUBLIC_SCHOOLS, OTHER_SCHOOLS, FEWEST_PUBLIC_SCHOOLS = 60, 13, 10


def generator_options(scale: float) -> dict[str, dict[str, float]]:
    """Each demo generator's size arguments for `scale` × Copenhagen."""
    options = {source: {"size": scale * rows / DEMO[source]} for source, rows in COPENHAGEN.items()}
    public = max(SCHOOLS * scale - OTHER_SCHOOLS, FEWEST_PUBLIC_SCHOOLS)
    options["school_enrolment"]["public_schools"] = public / DEMO_PUBLIC_SCHOOLS
    return options


def write_landing(directory: Path, scale: float, seed: int = SEED) -> tuple[Path, Path]:
    """The landing zone and StatBank directory for `scale`, written once per directory (a
    marker file says it is complete, so --workdir reuses a large one)."""
    from barometer.demo.employment import write_statbank  # the project, only where it is used
    from barometer.sources.registry import file_sources

    landing, statbank = directory / "landing", directory / "statbank"
    marker = directory / "complete.json"
    if marker.exists() and json.loads(marker.read_text()) == {"scale": scale, "seed": seed}:
        return landing, statbank
    shutil.rmtree(directory, ignore_errors=True)
    options = generator_options(scale)
    for source in file_sources():
        importlib.import_module(f"barometer.demo.{source}").write(landing, seed, **options.get(source, {}))
    write_statbank(statbank, seed)
    marker.write_text(json.dumps({"scale": scale, "seed": seed}))
    return landing, statbank


def delivery_rows(path: Path) -> int:
    """Data rows of a CSV, a workbook's largest sheet (by its dimension, titles included) or a
    folder's largest file."""
    if path.is_dir():
        return max(delivery_rows(file) for file in path.iterdir())
    if path.suffix == ".xlsx":
        return (
            max(
                sheet_rows(path, name)
                for name in zipfile.ZipFile(path).namelist()
                if name.startswith("xl/worksheets/sheet")
            )
            - 1
        )
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1


def sheet_rows(path: Path, sheet: str) -> int:
    with zipfile.ZipFile(path) as archive, archive.open(sheet) as xml:
        match = re.search(rb'<dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"', xml.read(4096))
    return int(match.group(1) or 1) if match else 0


def landing_summary(landing: Path) -> list[str]:
    lines = []
    for folder in sorted(p for p in landing.iterdir() if p.is_dir()):
        deliveries = sorted(folder.iterdir())
        rows = [delivery_rows(d) for d in deliveries]
        megabytes = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
        lines.append(
            f"  {folder.name:<18} {len(deliveries)} deliveries, {min(rows):>9,}-{max(rows):,} rows each, "
            f"{megabytes:7.1f} MB"
        )
    return lines


# --- measuring a process tree -------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mib: float
    stages: dict[str, float] = field(default_factory=dict)


class TreeSampler(threading.Thread):
    """Every SAMPLE_SECONDS: the RSS of a process and all its descendants (peak kept), and each
    one's CPU time, for descendants nobody waits for (getrusage only sees reaped ones)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        import psutil

        self.psutil, self.root = psutil, psutil.Process(pid)
        self.peak = 0
        self.cpu: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(SAMPLE_SECONDS)

    def sample(self) -> None:
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except self.psutil.Error:
            return
        rss = 0
        for process in processes:
            try:
                with process.oneshot():
                    rss += process.memory_info().rss
                    times = process.cpu_times()
                self.cpu[process.pid] = times.user + times.system
            except self.psutil.Error:
                continue
        self.peak = max(self.peak, rss)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(command: list[str], env: dict[str, str], log: Path) -> Run:
    """Run a command to its end; raise with its log's tail if it fails."""
    cpu_before, started = children_cpu(), time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=REPOSITORY)
        sampler = TreeSampler(process.pid)
        sampler.start()
        code = process.wait()
    wall, cpu = time.perf_counter() - started, children_cpu() - cpu_before
    sampler.done.set()
    sampler.join()
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise RuntimeError(f"{' '.join(command[:2])} exited {code}; the end of {log}:\n{tail}")
    return Run(wall, max(cpu, sum(sampler.cpu.values())), sampler.peak / 2**20)


def refresh_run(
    workdir: Path,
    landing: Path,
    warehouse: Path,
    statbank_url: str,
    edition: str,
    name: str,
    options: tuple[str, ...] = (),
) -> Run:
    """`barometer refresh` as a user runs it, in its own process, writing its stage times;
    `options` are further command-line options (the national benchmark's municipalities)."""
    timings = workdir / f"{name}.stages.json"
    timings.unlink(missing_ok=True)
    env = {
        **os.environ,
        "BAROMETER_PSEUDONYM_KEY": KEY,
        "PREFECT_HOME": str(workdir / "prefect_home"),
        "BAROMETER_STAGE_TIMINGS": str(timings),
        "BAROMETER_DATA_DOCS_DIR": str(workdir / "data_docs"),
    }
    command = [
        str(BAROMETER),
        "refresh",
        "--edition",
        edition,
        "--landing",
        str(landing),
        "--warehouse",
        f"sqlite:///{warehouse}",
        "--statbank-url",
        statbank_url,
        *options,
    ]
    run = measured(command, env, workdir / f"{name}.log")
    if timings.exists():
        run.stages = json.loads(timings.read_text()).get("stages", {})
    return run


def bound_run(
    workdir: Path, landing: Path, edition: str, name: str, municipalities: list[str] | None = None
) -> tuple[Run, list[dict]]:
    """The DuckDB bound in a fresh Python process; its observations come back as JSON. With
    `municipalities`, the landing zone is national (`landing/<code>/<source>/`) and the bound
    computes each municipality's indicators in turn."""
    parameters, out = workdir / "bound_parameters.json", workdir / f"{name}.json"
    if not parameters.exists():
        if municipalities is None:
            content = bound_parameters(edition)
        else:
            content = {"municipalities": {code: bound_parameters(edition, code) for code in municipalities}}
        parameters.write_text(json.dumps(content, ensure_ascii=False))
    env = {**os.environ, "BAROMETER_PSEUDONYM_KEY": KEY}
    command = [sys.executable, str(Path(__file__).resolve()), "--bound", str(landing), str(parameters), str(out)]
    run = measured(command, env, workdir / f"{name}.log")
    return run, json.loads(out.read_text())


def bound_parameters(edition: str, municipality: str = "101") -> dict:
    """The project's configuration as the bound needs it, so the bound's process imports no
    pandas and no barometer code: names, codes, thresholds and district spellings (none where
    the demo's deliveries have no districts: there the bound leaves 1.3 and 1.4 out)."""
    from barometer.config import edition_end, load_districts, source_config
    from barometer.demo.common import has_districts
    from barometer.sources import workforce, youth_education
    from barometer.sources.origin import ORIGIN_GROUPS

    return {
        "municipality": municipality,
        "until": edition_end(edition).isoformat(),
        "districts": load_districts(municipality).lookup() if has_districts(municipality) else {},
        "origins": ORIGIN_GROUPS,
        "staff_origins": workforce.ORIGIN_GROUPS,
        "youth": {
            **source_config("youth_education"),
            "landing": youth_education.SPEC.folder,
            "sheet": youth_education.SPEC.format.sheet,
            "completed": youth_education.COMPLETED,
            "enrolled": youth_education.ENROLLED,
        },
        "childcare": source_config("childcare"),
        "school_enrolment": source_config("school_enrolment"),
    }


# --- the bound (runs in its own process) --------------------------------------------------------


def sql_text(values: list[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def pseudonym_macro(secret: str) -> str:
    """The spec's keyed hash at its cheapest: one SHA-256 of key || number (the barometer's
    HMAC-SHA256 costs two, so the bound's pseudonyms are not the barometer's; nothing compares
    them, the check compares values)."""
    return f"CREATE MACRO pseudonym(digits) AS sha256(unhex('{secret.encode('utf-8').hex()}') || encode(digits))"


MACROS = [
    # the CPR number's birth date (Statistics Denmark's century rule on the 7th digit)
    """CREATE MACRO cpr_birth(d) AS make_date(
         CASE WHEN d[7]::INT <= 3 THEN 1900
              WHEN d[7]::INT IN (4, 9) AND d[5:6]::INT <= 36 THEN 2000
              WHEN d[7]::INT IN (4, 9) THEN 1900
              WHEN d[7]::INT BETWEEN 5 AND 8 AND d[5:6]::INT <= 57 THEN 2000 ELSE 1800 END
         + d[5:6]::INT, d[3:4]::INT, d[1:2]::INT)""",
    """CREATE MACRO age_on(birth, day) AS year(day) - year(birth)
         - CASE WHEN month(day) < month(birth) OR (month(day) = month(birth) AND day(day) < day(birth))
                THEN 1 ELSE 0 END""",
    """CREATE MACRO normalised(name) AS trim(regexp_replace(regexp_replace(
         replace(replace(lower(trim(name)), 'kgs.', 'kongens '), 'kgs ', 'kongens '),
         '[/\\-–,.]+', ' ', 'g'), '\\s+', ' ', 'g'))""",
    "CREATE MACRO area(municipality, district) AS municipality || '-' || lpad(district::VARCHAR, 2, '0')",
]


def load_workbooks(con, files: list[Path], sheet: str) -> str:
    """The youth register's sheets as one SQL relation: fastexcel (calamine, the barometer's
    parser) hands each sheet to DuckDB as Arrow, with no Python object per cell."""
    import fastexcel

    for number, file in enumerate(files):
        con.register(f"youth_sheet_{number}", fastexcel.read_excel(str(file)).load_sheet_by_name(sheet))
    return "(" + " UNION ALL BY NAME ".join(f"SELECT * FROM youth_sheet_{n}" for n in range(len(files))) + ")"


def read_persons(con, landing: Path, parameters: dict) -> None:
    """Each source's rows up to the edition's end, only the columns the indicators need, trimmed;
    `delivery` says which file a row is from (a hash: the name in every row costs more)."""
    until, youth = parameters["until"], parameters["youth"]
    sheets = load_workbooks(con, sorted((landing / youth["landing"]).glob("*.xlsx")), youth["sheet"])
    con.execute(f"""CREATE TABLE youth_raw AS
        SELECT trim("CPR") AS cpr, "Fødselsdato"::DATE AS birth_date,
               "Herkomst" AS origin, "Bydel" AS spelling, trim("Status") AS status,
               "Opgørelsesdato"::DATE AS reference_date
        FROM {sheets} WHERE reference_date <= '{until}'""")
    con.execute(f"""CREATE TABLE children_raw AS
        SELECT trim(cpr) AS cpr, opgoerelsesdato::DATE AS reference_date, hash(filename) AS delivery,
               nullif(trim(foedselsdato), '')::DATE AS birth_date, herkomst AS origin,
               bopaelsbydel AS spelling, nullif(trim(institution_id), '') AS institution_id
        FROM {csv_scan(landing, "childcare/*/boern*.csv", ",")} WHERE reference_date <= '{until}'""")
    con.execute(f"""CREATE TABLE pupils_raw AS
        SELECT trim(cpr) AS cpr, opgoerelsesdato::DATE AS reference_date, hash(filename) AS delivery,
               bopaelsbydel AS spelling,
               nullif(trim(institutionsnummer), '') AS school_number, trim(tosproget) = 'J' AS bilingual
        FROM {csv_scan(landing, "school_enrolment/*/elever*.csv", ";")} WHERE reference_date <= '{until}'""")
    con.execute(f"""CREATE TABLE employees_raw AS
        SELECT trim(medarbejder_nr) AS number, opgoerelsesdato::DATE AS reference_date,
               trim(leder) = 'J' AS is_manager, trim(herkomst) AS origin
        FROM {csv_scan(landing, "workforce/*.csv", ";")} WHERE reference_date <= '{until}'""")
    con.execute(f"""CREATE TABLE institutions_raw AS
        SELECT parse_dirpath(filename) AS folder, trim(institution_id) AS institution_id, trim(type) AS type,
               bydel AS spelling
        FROM {csv_scan(landing, "childcare/*/institutioner*.csv", ",")}""")
    con.execute(f"""CREATE TABLE schools_raw AS
        SELECT parse_dirpath(filename) AS folder, trim(institutionsnummer) AS school_number,
               trim(skoletype) AS school_type, bydel AS spelling
        FROM {csv_scan(landing, "school_enrolment/*/skoler*.csv", ";")}""")


def csv_scan(landing: Path, pattern: str, delimiter: str) -> str:
    """DuckDB's CSV reader over a source's files, every column text, named by the first file's
    header: telling it the columns spares it sniffing each file (half its reading time)."""
    with next(iter(sorted(landing.glob(pattern)))).open(encoding="utf-8-sig", newline="") as first:
        header = next(csv.reader(first, delimiter=delimiter))
    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in header) + "}"
    return (
        f"read_csv('{landing / pattern}', delim='{delimiter}', header=true, quote='\"', filename=true, "
        f"auto_detect=false, columns={columns})"
    )


PERSON_TABLES = ["youth", "children", "pupils", "employees"]
SPELLING_TABLES = ["youth", "children", "pupils", "institutions", "schools"]
ORIGIN_TABLES = ["youth", "children"]


def look_ups(con) -> None:
    """Per distinct value, not per row: each district spelling's number (two regexes) and each
    origin category's group. (Pseudonyms are cheaper per row: one SHA-256 costs less than
    joining a table of them back.)"""
    spellings = " UNION ".join(f"SELECT spelling FROM {table}_raw" for table in SPELLING_TABLES)
    con.execute(f"""CREATE TABLE spellings AS SELECT spelling, number AS district
                    FROM ({spellings}) JOIN districts ON key = normalised(spelling)""")
    origins = " UNION ".join(f"SELECT origin FROM {table}_raw" for table in ORIGIN_TABLES)
    con.execute(f"""CREATE TABLE origin_groups AS SELECT origin, grp AS origin_group
                    FROM ({origins}) JOIN origins ON category = trim(origin)""")


def stage_tables(con, landing: Path, parameters: dict) -> None:
    """Read, pseudonymise and type each source's persons; check one row per person and
    well-formed CPR numbers."""
    con.execute("CREATE TABLE districts (key VARCHAR, number INT)")
    if parameters["districts"]:  # none: the municipality is published as a whole
        con.executemany("INSERT INTO districts VALUES (?, ?)", list(parameters["districts"].items()))
    con.execute("CREATE TABLE origins (category VARCHAR, grp VARCHAR)")
    con.executemany("INSERT INTO origins VALUES (?, ?)", list(parameters["origins"].items()))
    read_persons(con, landing, parameters)
    look_ups(con)
    joined = "LEFT JOIN spellings USING (spelling)"
    person_id = "pseudonym(replace(cpr, '-', '')) AS person_id"
    well_formed = "regexp_full_match(cpr, '\\d{6}-?\\d{4}') AS well_formed"
    age = "age_on(coalesce(birth_date, cpr_birth(replace(cpr, '-', ''))), reference_date) AS age"
    con.execute(f"""CREATE TABLE youth AS SELECT {person_id}, reference_date, {age}, origin_group, district, status,
                           {well_formed}
                    FROM youth_raw {joined} LEFT JOIN origin_groups USING (origin)""")
    con.execute(f"""CREATE TABLE children AS SELECT {person_id}, reference_date, institution_id, origin_group, district,
                           {age}, {well_formed}
                    FROM children_raw {joined} LEFT JOIN origin_groups USING (origin)""")
    con.execute(f"""CREATE TABLE pupils AS SELECT {person_id}, reference_date, school_number, district, bilingual,
                           {well_formed}
                    FROM pupils_raw {joined}""")
    staff = parameters["staff_origins"]
    con.execute(f"""CREATE TABLE employees AS
        SELECT pseudonym(number) AS person_id, reference_date, is_manager, true AS well_formed,
               CASE origin {" ".join(f"WHEN '{k}' THEN '{v}'" for k, v in staff.items() if v)} END AS origin_group
        FROM employees_raw""")
    for units, persons, files in [
        ("institutions", "children", "childcare/*/boern*.csv"),
        ("schools", "pupils", "school_enrolment/*/elever*.csv"),
    ]:
        con.execute(f"""CREATE TABLE {units} AS
            SELECT d.reference_date, u.* EXCLUDE (folder, spelling), district
            FROM {units}_raw u LEFT JOIN spellings USING (spelling)
            JOIN (SELECT parse_dirpath(file) AS folder, hash(file) AS delivery FROM glob('{landing / files}'))
                 USING (folder)
            JOIN (SELECT DISTINCT delivery, reference_date FROM {persons}_raw) d USING (delivery)""")
    for table in PERSON_TABLES:
        broken = con.execute(
            f"SELECT count(*) - count(DISTINCT (reference_date, person_id)), "
            f"count(*) FILTER (WHERE NOT well_formed) FROM {table}"
        ).fetchone()
        if any(broken):
            raise ValueError(f"{table}: {broken[0]} repeated persons, {broken[1]} malformed numbers")


def shares(cells: str, indicator: str, measures: dict[str, str], municipality: str, districts: bool = True) -> str:
    """Percent shares for the city (and each district): `cells` has reference_date, group_code,
    district and the numerator expressions of `measures`; the denominator counts its rows."""
    sums = ", ".join(
        f'sum(coalesce(({expression})::INT, 0)) AS "{measure}"' for measure, expression in measures.items()
    )
    city = (
        f"SELECT reference_date, group_code, '{municipality}' AS area_code, count(*) AS denominator, {sums} "
        f"FROM ({cells}) GROUP BY ALL"
    )
    local = f"""SELECT reference_date, group_code, area('{municipality}', district) AS area_code,
                       count(*) AS denominator, {sums}
                FROM ({cells}) WHERE district IS NOT NULL GROUP BY ALL"""
    grouped = f"{city} UNION ALL {local}" if districts else city
    return f"WITH grouped AS MATERIALIZED ({grouped}) " + " UNION ALL ".join(
        f"""SELECT '{indicator}' AS indicator_code, '{measure}' AS measure, group_code, area_code, reference_date,
                   100.0 * "{measure}" / denominator AS value FROM grouped"""
        for measure in measures
    )


def deviating(
    institutions: str,
    members: str,
    residents: str,
    unit: str,
    flag: str,
    points: float,
    indicator: str,
    municipality: str,
) -> str:
    """Percent of institutions whose `flag` share differs from their district's residents' by
    more than `points` (cross-multiplied in integers, as the barometer does)."""
    compared = f"""SELECT i.reference_date, 'all' AS group_code, i.district,
            100 * abs(m.flagged * r.members - r.flagged * m.members) > {points} * m.members * r.members AS deviates
        FROM ({institutions}) i
        JOIN (SELECT reference_date, {unit}, count(*) AS members, sum({flag}::INT) AS flagged
              FROM ({members}) GROUP BY ALL) m USING (reference_date, {unit})
        JOIN (SELECT reference_date, district, count(*) AS members, sum({flag}::INT) AS flagged
              FROM ({residents}) WHERE district IS NOT NULL GROUP BY ALL) r USING (reference_date, district)"""
    return shares(compared, indicator, {"value": "deviates"}, municipality)


def indicator_sql(parameters: dict) -> str:
    municipality, youth, childcare = parameters["municipality"], parameters["youth"], parameters["childcare"]
    low, high = youth["ages"]
    queries = [
        shares(
            f"""SELECT reference_date, origin_group AS group_code, district, status
                          FROM youth WHERE age BETWEEN {low} AND {high}
                          AND origin_group IN ('danish', 'non_western')""",
            "1.2",
            {
                "value": f"status IN ({sql_text([youth['completed'], youth['enrolled']])})",
                "completed": f"status = {sql_text([youth['completed']])}",
                "enrolled": f"status = {sql_text([youth['enrolled']])}",
            },
            municipality,
        )
    ]
    groups = (
        "(VALUES ('danish', 'danish'), ('danish', 'all'), ('western', 'minority'), ('western', 'all'), "
        "('non_western', 'minority'), ('non_western', 'all')) AS g(origin_group, group_code)"
    )
    typed = "children c LEFT JOIN institutions i USING (reference_date, institution_id)"
    for code, service in childcare["services"].items():
        band_low, band_high = service["ages"]
        queries.append(
            shares(
                f"""SELECT c.reference_date, g.group_code, c.district, i.type AS type
                                  FROM {typed} JOIN {groups} USING (origin_group)
                                  WHERE c.age BETWEEN {band_low} AND {band_high}""",
                code,
                {"value": f"type IN ({sql_text(service['types'])})"},
                municipality,
            )
        )
    months = ", ".join(str(month) for month in childcare["deviation_months"])
    november = (
        f"SELECT *, origin_group <> 'danish' AS non_danish FROM children WHERE month(reference_date) IN ({months})"
    )
    daycare_low, daycare_high = childcare["daycare_ages"]
    queries.append(
        deviating(
            f"SELECT * FROM institutions WHERE type IN ({sql_text(childcare['daycare_types'])})",
            f"{november} AND institution_id IS NOT NULL",
            f"{november} AND age BETWEEN {daycare_low} AND {daycare_high}",
            "institution_id",
            "non_danish",
            childcare["deviation_points"],
            "1.4",
            municipality,
        )
    )
    enrolment = parameters["school_enrolment"]
    queries.append(
        deviating(
            f"SELECT * FROM schools WHERE school_type IN ({sql_text(enrolment['school_types_counted'])})",
            "SELECT * FROM pupils WHERE school_number IS NOT NULL",
            "SELECT * FROM pupils",
            "school_number",
            "bilingual",
            enrolment["deviation_points"],
            "1.3",
            municipality,
        )
    )
    queries.append(
        shares(
            """SELECT reference_date, 'non_western' AS group_code, NULL::INT AS district, origin_group
                             FROM employees WHERE is_manager AND origin_group IS NOT NULL""",
            "3.2",
            {"value": "origin_group = 'non_western'"},
            municipality,
            districts=False,
        )
    )
    return " UNION ALL ".join(f"({query})" for query in queries)


def run_bound(landing: Path, parameters_file: Path, out: Path) -> None:
    """The bound's whole work, from the landing files to its observations (written as JSON)."""
    try:
        import duckdb
    except ImportError:
        raise SystemExit(INSTALL_HINT) from None
    parameters = json.loads(parameters_file.read_text())
    national = parameters.get("municipalities")
    if national is None:
        rows = bound_rows(duckdb, landing, parameters)
    else:
        rows = [row for code, each in national.items() for row in bound_rows(duckdb, landing / code, each)]
    columns = ["indicator_code", "measure", "group_code", "area_code", "reference_date", "value"]
    out.write_text(
        json.dumps([dict(zip(columns, (*row[:4], row[4].isoformat(), row[5]), strict=True)) for row in rows])
    )


def bound_rows(duckdb, landing: Path, parameters: dict) -> list[tuple]:
    """One municipality's observations, in a connection of its own."""
    con = duckdb.connect()
    for macro in [pseudonym_macro(os.environ["BAROMETER_PSEUDONYM_KEY"]), *MACROS]:
        con.execute(macro)
    stage_tables(con, landing, parameters)
    return con.execute(indicator_sql(parameters)).fetchall()


# --- comparing and reporting --------------------------------------------------------------------


def check(bound: list[dict], warehouse: Path, bound_areas_only: bool = False) -> tuple[list[str], bool]:
    """Each indicator's bound values against the warehouse's barometer_observation: equal within
    TOLERANCE where published, none missing on either side (suppressed cells are not compared);
    `bound_areas_only`: of each indicator, only the areas the bound computes (the national
    bound leaves 1.3 and 1.4 out where there are no districts)."""
    key = ("indicator_code", "measure", "group_code", "area_code", "reference_date")
    computed = {tuple(row[k] for k in key): row["value"] for row in bound}
    measures = {(k[0], k[1]) for k in computed}
    with sqlite3.connect(warehouse) as con:
        stored = con.execute(
            f"SELECT {', '.join(key)}, value FROM barometer_observation "
            f"WHERE indicator_code IN ({sql_text(BOUND_INDICATORS)})"
        ).fetchall()
    areas = {(k[0], k[3]) for k in computed}
    published = {
        tuple(str(v) for v in row[:5]): row[5]
        for row in stored
        if (row[0], row[1]) in measures and (not bound_areas_only or (row[0], row[3]) in areas)
    }
    lines, honest = [], True
    for indicator in BOUND_INDICATORS:
        ours = {k: v for k, v in computed.items() if k[0] == indicator}
        theirs = {k: v for k, v in published.items() if k[0] == indicator}
        shown = {k: v for k, v in theirs.items() if v is not None}
        missing = (set(shown) - set(ours)) | (set(ours) - set(theirs))
        differences = [abs(ours[k] - shown[k]) for k in set(shown) & set(ours)]
        worst = max(differences, default=0.0)
        ok = not missing and worst <= TOLERANCE and bool(differences)
        honest &= ok
        lines.append(
            f"  {indicator:<4} {len(differences):>5} values equal to the warehouse's, largest difference "
            f"{worst:.1e}, {len(theirs) - len(shown)} suppressed there, {len(missing)} missing"
            + ("" if ok else "   <- MISMATCH")
        )
    return lines, honest


def median(runs: list[Run], attribute: str) -> float:
    return statistics.median(getattr(run, attribute) for run in runs)


def stage_table(first: list[Run], again: list[Run], labels: tuple[str, str] = ("first", "re-run")) -> list[str]:
    names = STAGES + sorted({n for run in first + again for n in run.stages} - set(STAGES))

    def cell(runs: list[Run], name: str) -> str:
        values = [run.stages[name] for run in runs if name in run.stages]
        return f"{statistics.median(values):10.2f}" if values else f"{'n/a':>10}"

    lines = [f"  {'stage (wall s, median)':<24}{labels[0]:>10}{labels[1]:>10}"]
    lines += [f"  {name:<24}{cell(first, name)}{cell(again, name)}" for name in names]
    return lines


def report(scale: float, edition: str, first: list[Run], again: list[Run], bound: list[Run]) -> list[str]:
    def row(label: str, runs: list[Run]) -> str:
        return f"  {label:<28}{median(runs, 'wall'):9.1f}{median(runs, 'cpu'):9.1f}{median(runs, 'peak_mib'):10,.0f}"

    def ratio(top: list[Run], bottom: list[Run], attribute: str) -> str:
        return f"{median(top, attribute) / median(bottom, attribute):.2f}×"

    return [
        f"\nmedians of {len(first)} (CPU: user + system seconds of the whole process tree)",
        f"  {'':<28}{'wall s':>9}{'CPU s':>9}{'peak MiB':>10}",
        row("refresh, fresh warehouse", first),
        row("refresh, inputs unchanged", again),
        row("DuckDB SQL bound", bound),
        f"\n  barometer ÷ bound:  CPU {ratio(first, bound, 'cpu')}, wall {ratio(first, bound, 'wall')}",
        f"  re-run ÷ first:     CPU {ratio(again, first, 'cpu')}, wall {ratio(again, first, 'wall')}\n",
        *stage_table(first, again),
    ]


def benchmark(scale: float, repeat: int, edition: str, workdir: Path) -> bool:
    from barometer.demo.statbank_server import serve

    print(
        f"barometer refresh {edition} at {scale:g} × Copenhagen, {repeat} × interleaved with the DuckDB bound; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    started = time.perf_counter()
    landing, statbank = write_landing(workdir / f"landing-S{scale:g}", scale)
    print(f"landing zone {landing} ({time.perf_counter() - started:.0f} s to write or reuse):", flush=True)
    print("\n".join(landing_summary(landing)), flush=True)
    first, again, bound, lines, honest = [], [], [], [], True
    with serve(statbank) as statbank_url:
        for number in range(1, repeat + 1):
            warehouse = workdir / f"warehouse-{number}.sqlite"
            warehouse.unlink(missing_ok=True)
            first.append(refresh_run(workdir, landing, warehouse, statbank_url, edition, f"refresh-{number}"))
            run, observations = bound_run(workdir, landing, edition, f"bound-{number}")
            bound.append(run)
            again.append(refresh_run(workdir, landing, warehouse, statbank_url, edition, f"rerun-{number}"))
            print(
                f"  run {number}: refresh {first[-1].cpu:.1f} CPU s, bound {bound[-1].cpu:.1f}, "
                f"re-run {again[-1].cpu:.1f}",
                flush=True,
            )
            if number == 1:
                lines, honest = check(observations, warehouse)
    print("\n".join(report(scale, edition, first, again, bound)))
    print(f"\ncheck: the bound's values against the first warehouse (within {TOLERANCE:g})")
    print("\n".join(lines))
    return honest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="× Copenhagen's size (default 1; 10 ≈ Denmark)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repetitions, medians printed (default 3)")
    parser.add_argument("--edition", default="2013-S2", help="edition refreshed (default 2013-S2)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="kept and reused (the landing zone is written once); default: a temporary directory, removed",
    )
    parser.add_argument("--bound", nargs=3, type=Path, help=argparse.SUPPRESS)  # LANDING PARAMETERS OUT
    args = parser.parse_args()
    if args.bound:
        run_bound(*args.bound)
        return
    try:
        import duckdb  # noqa: F401  (the bound's process imports them; fail early and clearly)
        import fastexcel  # noqa: F401
        import psutil  # noqa: F401
    except ImportError:
        raise SystemExit(INSTALL_HINT) from None
    in_workdir(
        args.workdir, "barometer-benchmark-", lambda workdir: benchmark(args.scale, args.repeat, args.edition, workdir)
    )


def in_workdir(kept: Path | None, prefix: str, measure) -> None:
    """`measure(workdir)` in `kept`, else in a temporary directory removed after; a bound whose
    values differ from the warehouse's ends the benchmark with an error."""
    workdir = kept or Path(tempfile.mkdtemp(prefix=prefix))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        honest = measure(workdir.resolve())
    finally:
        if not kept:
            shutil.rmtree(workdir, ignore_errors=True)
    if not honest:
        raise SystemExit("the bound's values differ from the warehouse's: the comparison is not valid")


if __name__ == "__main__":
    main()
