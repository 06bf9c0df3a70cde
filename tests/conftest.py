"""Shared fixtures: one Prefect test server per session, a fresh PostgreSQL database per test
that asks for one, the demo landing zone, a StatBank stand-in, a scripted StatBank impostor and
a relay to the stand-in that sees each request, all on 127.0.0.1, and the demo refreshed once per
session for the tests that only read it.

Test modules never import from each other (pytest runs with --import-mode=importlib): what two
modules share lives here, as fixtures."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

POSTGRES_ADMIN = os.environ.get("BAROMETER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_KEY = "barometer-test-key"


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server for the whole session (it takes seconds to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _admin():
    import psycopg

    return psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5)


def _database_url(name: str) -> str:
    """The SQLAlchemy URL of database `name` on the test server."""
    return POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    try:
        _admin().close()
        return True
    except Exception:
        if os.environ.get("CI"):
            raise  # CI starts PostgreSQL: a missing server there is a failure, not a skip
        return False


@pytest.fixture
def postgres_url(postgres_available):
    """A new, empty PostgreSQL database, dropped after the test."""
    if not postgres_available:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"barometer_test_{uuid.uuid4().hex[:12]}"
    with _admin() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield _database_url(name)
    with _admin() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request, tmp_path):
    """Every warehouse test runs on both databases."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    """The demo landing zone and StatBank data, generated once per session (read-only for tests)."""
    from barometer.demo import generate

    root = tmp_path_factory.mktemp("demo")
    generate(root / "landing", root / "statbank")
    return root


@pytest.fixture
def landing(demo_data, tmp_path) -> Path:
    """A private copy of the demo landing zone that a test may add deliveries to."""
    target = tmp_path / "landing"
    shutil.copytree(demo_data / "landing", target)
    return target


@pytest.fixture(scope="session")
def statbank_url(demo_data):
    from barometer.demo.statbank_server import serve

    with serve(demo_data / "statbank") as url:
        yield url


@pytest.fixture(autouse=True)
def data_docs_in_tmp(monkeypatch, tmp_path):
    """Refreshes write Data Docs; keep test runs' copies out of the working tree (a module that
    chose its own folder keeps it)."""
    if "BAROMETER_DATA_DOCS_DIR" not in os.environ:
        monkeypatch.setenv("BAROMETER_DATA_DOCS_DIR", str(tmp_path / "data_docs"))


@pytest.fixture
def pseudonym_key(monkeypatch):
    monkeypatch.setenv("BAROMETER_PSEUDONYM_KEY", TEST_KEY)
    return TEST_KEY


CPR_PATTERN = re.compile(r"(?<![\d.])\d{6}-?\d{4}(?![\d.])")


def landing_cprs(landing: Path) -> set[str]:
    """Every CPR-shaped number in a landing zone's deliveries, as ten digits."""
    from openpyxl import load_workbook

    texts = [p.read_bytes().decode("cp1252", errors="replace") for p in landing.rglob("*.csv")]
    for path in landing.rglob("*.xlsx"):
        workbook = load_workbook(path, read_only=True)
        texts += [
            cell
            for sheet in workbook
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if isinstance(cell, str)
        ]
        workbook.close()
    return {match.replace("-", "") for text in texts for match in CPR_PATTERN.findall(text)}


@pytest.fixture(scope="session")
def find_demo_cprs(demo_data):
    """A function giving the demo's CPR numbers found in a text (written with or without hyphen)."""
    known = landing_cprs(demo_data / "landing")
    assert len(known) > 1000, "the demo landing zone holds CPR numbers to look for"
    return lambda text: {m.replace("-", "") for m in CPR_PATTERN.findall(text)} & known


# --- a scripted StatBank impostor, and a relay to the stand-in -------------------------------


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` serving on a free port of 127.0.0.1 while the block runs; yields the base URL (…/v1)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


@contextmanager
def scripted_statbank(*answers: tuple[int, str, bytes, float]) -> Iterator[tuple[str, list[dict]]]:
    """A server answering each POST with the next (status, content type, body, delay), the last
    answer repeated; yields its base URL and the request bodies it received."""
    received: list[dict] = []

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.body()
            received.append(json.loads(body) if body else {})
            status, content_type, answer, delay = answers[min(len(received), len(answers)) - 1]
            time.sleep(delay)
            self.answer(status, content_type, answer)

    with serving(Handler) as url:
        yield url, received


@pytest.fixture(scope="session")
def stub_statbank():
    """`with stub_statbank(*answers) as (url, received):` a StatBank impostor on 127.0.0.1 (see
    `scripted_statbank`): scripted failures without the real API."""
    return scripted_statbank


@contextmanager
def relayed_statbank(upstream: str, before: Callable[[str, str], None]) -> Iterator[str]:
    """A relay on 127.0.0.1 to the StatBank at `upstream` (…/v1) that calls `before(endpoint,
    table)` ('data', 'KAS201') for each request before passing it on: to count or hold them."""
    import urllib.error
    import urllib.request

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.body()
            endpoint, *segments = self.path.removeprefix("/v1/").split("/")  # /v1/data or /v1/data/KAS201/BULK
            table = segments[0] if segments else json.loads(body or b"{}").get("table", "")
            before(endpoint, table.upper())
            relayed = urllib.request.Request(upstream + self.path.removeprefix("/v1"), data=body, method="POST")
            relayed.add_header("Content-Type", self.headers.get("Content-Type", "application/json"))
            try:
                with urllib.request.urlopen(relayed, timeout=60) as reply:
                    self.answer(reply.status, reply.headers["Content-Type"], reply.read())
            except urllib.error.HTTPError as refused:
                self.answer(refused.code, refused.headers["Content-Type"], refused.read())

    with serving(Handler) as url:
        yield url


@pytest.fixture(scope="session")
def relay_statbank():
    """`with relay_statbank(upstream, before) as url:` the real stand-in behind a relay that sees
    each request first (see `relayed_statbank`)."""
    return relayed_statbank


# --- reading a warehouse ---------------------------------------------------------------------


def read_query(url: str, sql: str):
    """Rows of a query, dates as ISO text on both databases (SQLite stores them as text)."""
    import pandas as pd
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            frame = pd.read_sql(text(sql), connection)
    finally:
        engine.dispose()
    for column in [c for c in frame.columns if c.endswith("date")]:
        frame[column] = frame[column].map(lambda d: None if pd.isna(d) else str(d)[:10])
    return frame


@pytest.fixture(scope="session")
def query():
    """`query(url, sql)`: a DataFrame of the rows, dates as ISO text on both databases."""
    return read_query


@pytest.fixture(scope="session")
def read_only():
    """`read_only(sqlite_url)`: SQLAlchemy's read-only SQLite URL for the same file (mode=ro)."""
    from sqlalchemy.engine import make_url

    return lambda sqlite_url: f"sqlite:///file:{make_url(sqlite_url).database}?mode=ro&uri=true"


# --- the demo refreshed once per session -----------------------------------------------------

DEMO_EDITION = "2012-S2"


def refresh_demo(url: str, demo_data: Path, statbank_url: str, data_docs: Path) -> None:
    """The demo's 2012-S2 edition refreshed into the warehouse at `url` by `barometer refresh` in
    this process, without Prefect (the tests of the flow itself run their own refreshes)."""
    from typer.testing import CliRunner

    from barometer.cli import app

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BAROMETER_PSEUDONYM_KEY", TEST_KEY)
        patch.setenv("BAROMETER_DATA_DOCS_DIR", str(data_docs))
        patch.setenv("BAROMETER_ORCHESTRATION", "local")
        result = CliRunner().invoke(
            app,
            [
                "refresh",
                "--edition",
                DEMO_EDITION,
                "--landing",
                str(demo_data / "landing"),
                "--warehouse",
                url,
                "--statbank-url",
                statbank_url,
            ],
        )
    assert result.exit_code == 0, result.output[-3000:]


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory, demo_data, statbank_url) -> str:
    """The demo refreshed for 2012-S2 into SQLite, once per session however many modules ask (a
    refresh takes the better part of a minute). Read-only: a test that writes takes
    `demo_warehouse_copy`."""
    folder = tmp_path_factory.mktemp(f"demo-warehouse-{DEMO_EDITION}")
    url = f"sqlite:///{folder / 'barometer.sqlite'}"
    refresh_demo(url, demo_data, statbank_url, folder / "data_docs")
    return url


@pytest.fixture(scope="session")
def demo_warehouse_postgresql(postgres_available, demo_data, statbank_url, tmp_path_factory) -> Iterator[str]:
    """The same on PostgreSQL, once per session; read-only, dropped at the end."""
    if not postgres_available:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"barometer_test_demo_{uuid.uuid4().hex[:12]}"
    with _admin() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = _database_url(name)
    try:
        refresh_demo(url, demo_data, statbank_url, tmp_path_factory.mktemp("demo-postgresql-data-docs"))
        yield url
    finally:
        with _admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_warehouse_copy(request, tmp_path) -> Iterator[str]:
    """A private copy of the session's refreshed demo warehouse, on both databases, that a test
    may change: the SQLite file copied, the PostgreSQL database cloned from it (TEMPLATE)."""
    if request.param == "sqlite":
        source = Path(request.getfixturevalue("demo_warehouse").removeprefix("sqlite:///"))
        shutil.copy2(source, tmp_path / "warehouse.sqlite")
        yield f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
        return
    template = request.getfixturevalue("demo_warehouse_postgresql").rsplit("/", 1)[1]
    name = f"barometer_test_{uuid.uuid4().hex[:12]}"
    with _admin() as connection:  # a clone needs the template to itself: close what a reader left open
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [template],
        )
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _database_url(name)
    with _admin() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
