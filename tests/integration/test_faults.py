"""Faults end quickly and locally (issue 14), tried with real processes: a StatBank that stalls,
trickles or is down is given up at its deadline; a warehouse that cannot be written is one
sentence and exit 1; a refresh killed with SIGKILL inside its load transaction leaves the views
as they were, takes its helper processes with it, and the next refresh succeeds; an edition with
nothing to publish is an answer.

These machines run as root, which writes into read-only folders: refreshes meant to meet a
read-only folder run under `setpriv` without the file-permission capabilities, as a service user
would.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import socketserver
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from barometer.config import edition_end, load_catalogue, load_districts, source_config
from barometer.sources import employment
from barometer.sources.statbank import Deadline, StatBankClient, StatBankUnavailable
from barometer.transforms.common import KEY
from barometer.transforms.editions import edition_entries
from barometer.transforms.national import national_shares, share_indicators
from barometer.warehouse.database import connect, initialise
from barometer.warehouse.load import Aggregates, LoadRequest, load
from barometer.warehouse.read import read_edition
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.integration

BAROMETER = str(Path(sys.executable).parent / "barometer")
WITHOUT_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
DEADLINE = 3.0
GRACE = 5.0  # what a fault may take beyond its deadline: the thread switch, not another try
VIEWS = {
    "barometer_edition": "edition_code, indicator_code, group_code, area_code",
    "barometer_observation": "indicator_code, measure, group_code, area_code, reference_date",
    "barometer_delivery": "delivery_id",
}


# --- StatBank: one deadline for the whole fetch ---------------------------------------------


@contextmanager
def misbehaving_server(behave: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that hands every accepted connection to `behave` until the test
    ends; yields the StatBank base URL."""
    stop = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            behave(self.request, stop)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def stall(connection: socket.socket, stop: threading.Event) -> None:
    """Accept, read nothing, answer nothing."""
    stop.wait()


def trickle(connection: socket.socket, stop: threading.Event) -> None:
    """Answer HTTP 200 at once, then the body one byte every 0.2 s: no read ever times out."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    while not stop.wait(0.2):
        try:
            connection.sendall(b" ")
        except OSError:
            return


def unavailable(connection: socket.socket, stop: threading.Event) -> None:
    """HTTP 503 to every request."""
    connection.recv(65536)
    connection.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy")


def configured_client(url: str, deadline_seconds: float) -> StatBankClient:
    """The production timeouts and retries (config/sources.yaml), a short deadline."""
    options = dict(source_config("employment")["client"])
    return StatBankClient(url, **options, deadline=Deadline(deadline_seconds))


@pytest.mark.parametrize("behave", [stall, trickle], ids=["stalls", "trickles"])
def test_a_statbank_that_accepts_and_never_finishes_is_cut_off_at_the_deadline(behave):
    with misbehaving_server(behave) as url, configured_client(url, DEADLINE) as client:
        started = time.monotonic()
        with pytest.raises(StatBankUnavailable) as error:
            employment.fetch(client, "101", date(2013, 12, 31))
        waited = time.monotonic() - started
    assert waited < DEADLINE + GRACE, f"the fetch took {waited:.1f} s with a {DEADLINE:g} s deadline"
    assert f"did not answer within {DEADLINE:g} s" in str(error.value)
    assert "BAROMETER_STATBANK_DEADLINE_SECONDS" in str(error.value)
    assert error.value.file == "StatBank RAS201"


def test_an_outage_is_not_retried_past_the_deadline():
    """Backoff of 60 s before the second retry cannot fit in 3 s: the fetch ends at once, after
    the first try and the immediate retry, instead of sleeping through the backoffs."""
    requests_seen = []

    def count_and_refuse(connection: socket.socket, stop: threading.Event) -> None:
        requests_seen.append(1)
        unavailable(connection, stop)

    with misbehaving_server(count_and_refuse) as url:
        client = StatBankClient(url, retries=5, backoff_factor=30.0, deadline=Deadline(DEADLINE))
        started = time.monotonic()
        with client, pytest.raises(StatBankUnavailable) as error:
            client.tableinfo("KAS201")
    assert time.monotonic() - started < DEADLINE
    assert len(requests_seen) == 2
    assert f"did not answer within {DEADLINE:g} s" in str(error.value)


def test_a_retry_after_beyond_the_deadline_is_not_waited_for():
    """A 429 asking for an hour's pause with 600 s left: the fetch gives up at once."""

    def slow_down(connection: socket.socket, stop: threading.Event) -> None:
        connection.recv(65536)
        connection.sendall(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )

    with misbehaving_server(slow_down) as url, configured_client(url, 600) as client:
        with pytest.raises(StatBankUnavailable) as error:
            client.tableinfo("KAS201")
    assert "did not answer within 600 s" in str(error.value) and "HTTP 429" in str(error.value)


def test_the_deadline_comes_from_config_or_the_environment():
    from barometer.config import RunRequest

    def deadline(environment: dict[str, str]) -> float:
        statbank = RunRequest.build(environment).statbank
        with employment.open_client(statbank.url, statbank.backoff_factor, statbank.deadline_seconds) as client:
            return client.deadline.seconds

    assert deadline({}) == 600
    assert deadline({"BAROMETER_STATBANK_DEADLINE_SECONDS": "7.5"}) == 7.5
    with pytest.raises(ValueError, match="BAROMETER_STATBANK_DEADLINE_SECONDS='ten minutes' is not a number"):
        deadline({"BAROMETER_STATBANK_DEADLINE_SECONDS": "ten minutes"})


# --- The warehouse cannot be written: one sentence, exit 1, nothing written ------------------


def refresh(edition: str, landing: Path, warehouse: str, statbank_url: str, prefix: tuple[str, ...] = ()) -> list[str]:
    return [
        *prefix,
        BAROMETER,
        "refresh",
        "--edition",
        edition,
        "--landing",
        str(landing),
        "--warehouse",
        warehouse,
        "--statbank-url",
        statbank_url,
    ]


def refresh_env(tmp_path: Path, orchestration: str = "local") -> dict[str, str]:
    """The test's environment (it holds the pseudonym key), a private Prefect home, no Prefect
    API: with orchestration 'prefect' the CLI starts its own temporary server."""
    env = {
        **os.environ,
        "BAROMETER_ORCHESTRATION": orchestration,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "BAROMETER_DATA_DOCS_DIR": str(tmp_path / "data_docs"),
        "BAROMETER_STATBANK_DEADLINE_SECONDS": "30",
    }
    env.pop("PREFECT_API_URL", None)
    return env


def assert_one_sentence(result: subprocess.CompletedProcess, *, naming: str) -> None:
    printed = result.stdout + result.stderr
    assert result.returncode == 1, printed[-3000:]
    assert "Traceback" not in printed and "Background on this error" not in printed, printed[-3000:]
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("The warehouse ") and line.endswith("nothing was written."), line
    assert naming in line, line


def folder_state(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


@pytest.fixture
def read_only_folder(tmp_path):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to refresh without root's file permissions")
    folder = tmp_path / "read-only"
    folder.mkdir()
    yield folder
    folder.chmod(0o755)


@pytest.mark.parametrize("existing", [False, True], ids=["new-file", "existing-file"])
def test_a_warehouse_in_a_read_only_folder_is_one_sentence(
    landing, statbank_url, pseudonym_key, tmp_path, read_only_folder, existing
):
    database = read_only_folder / "warehouse.sqlite"
    if existing:
        with sqlite3.connect(database) as made:
            made.execute("CREATE TABLE kept (x INTEGER)")
        database.chmod(0o444)
    read_only_folder.chmod(0o555)
    before = folder_state(read_only_folder)
    result = subprocess.run(
        refresh("2013-S2", landing, f"sqlite:///{database}", statbank_url, prefix=tuple(WITHOUT_DAC)),
        env=refresh_env(tmp_path),
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert_one_sentence(result, naming=str(read_only_folder))
    assert "read-only" in result.stderr
    assert folder_state(read_only_folder) == before


def test_a_warehouse_in_a_missing_folder_is_one_sentence(landing, statbank_url, pseudonym_key, tmp_path):
    missing = tmp_path / "no-such-folder"
    result = subprocess.run(
        refresh("2013-S2", landing, f"sqlite:///{missing / 'warehouse.sqlite'}", statbank_url),
        env=refresh_env(tmp_path),
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert_one_sentence(result, naming=str(missing))
    assert not missing.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("fault", ["closed-port", "refused-login"])
def test_an_unreachable_or_refusing_postgresql_is_one_sentence(
    landing, statbank_url, pseudonym_key, tmp_path, postgres_available, fault
):
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))  # bound, not listening: every connection is refused
    if fault == "closed-port":
        url = f"postgresql+psycopg://barometer:s3cret@127.0.0.1:{bound.getsockname()[1]}/barometer"
    elif postgres_available:
        url = "postgresql+psycopg://no_such_login:s3cret@127.0.0.1:5432/postgres"
    else:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    with bound:
        result = subprocess.run(
            refresh("2013-S2", landing, url, statbank_url),
            env=refresh_env(tmp_path),
            text=True,
            capture_output=True,
            timeout=300,
        )
    assert_one_sentence(result, naming="127.0.0.1")
    assert "s3cret" not in result.stdout + result.stderr
    assert ("cannot be reached" if fault == "closed-port" else "refused the login") in result.stderr


# --- SIGKILL inside the load transaction ---------------------------------------------------


def views(url: str) -> dict[str, list[dict]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                view: pd.read_sql(text(f"SELECT * FROM {view} ORDER BY {order}"), connection)
                .astype(str)
                .to_dict("records")
                for view, order in VIEWS.items()
            }
    finally:
        engine.dispose()


def sqlite_in_transaction(url: str) -> Callable[[], bool]:
    """SQLite's rollback journal exists from a transaction's first write until its commit."""
    journal = Path(url.removeprefix("sqlite:///") + "-journal")
    return journal.exists


def postgres_in_transaction(url: str) -> Callable[[], bool]:
    """Another session holds a write lock on a table of the warehouse's database."""
    engine = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    database = url.rsplit("/", 1)[1]
    query = text(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE d.datname = :database AND l.locktype = 'relation' AND l.mode = 'RowExclusiveLock'"
    )

    def writing() -> bool:
        with engine.connect() as connection:
            return bool(connection.execute(query, {"database": database}).scalar())

    return writing


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (Linux /proc), whatever process group it chose."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(condition: Callable[[], bool], seconds: float, interval: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@pytest.fixture
def safety_landing(demo_data, tmp_path) -> Path:
    """The demo's safety folder only: a real, short refresh (StatBank comes from the stand-in)."""
    landing = tmp_path / "safety-landing"
    shutil.copytree(demo_data / "landing" / "safety", landing / "safety")
    return landing


@pytest.mark.postgres
@pytest.mark.parametrize(
    "warehouse_url, orchestration",
    [("sqlite", "local"), ("postgresql", "prefect")],
    ids=["sqlite-local", "postgresql-prefect"],
    indirect=["warehouse_url"],
)
def test_a_refresh_killed_inside_its_load_changes_nothing_and_leaves_no_helpers(
    warehouse_url, safety_landing, statbank_url, pseudonym_key, tmp_path, orchestration
):
    """Killed (its PID only, as the OOM killer or `kill -9` would) in a plain CLI run, and in a
    Prefect flow on the temporary server the CLI starts (no Prefect API configured): that server
    is a helper that must not outlive the refresh. The load is the same transaction either way:
    each database is tried once, with the orchestration it meets in production (a laptop's
    SQLite, a worker's PostgreSQL)."""
    first = subprocess.run(
        refresh("2012-S2", safety_landing, warehouse_url, statbank_url),
        env=refresh_env(tmp_path),
        text=True,
        capture_output=True,
        timeout=600,
    )
    assert first.returncode == 0, first.stderr[-3000:]
    before = views(warehouse_url)

    watch = sqlite_in_transaction if warehouse_url.startswith("sqlite") else postgres_in_transaction
    in_transaction = watch(warehouse_url)
    killed = subprocess.Popen(
        refresh("2013-S2", safety_landing, warehouse_url, statbank_url),
        env=refresh_env(tmp_path, orchestration),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        inside = wait_until(lambda: in_transaction() or killed.poll() is not None, 300, 0.002)
        helpers = descendants(killed.pid)
        if killed.poll() is None:
            os.kill(killed.pid, signal.SIGKILL)
    finally:
        killed.wait(timeout=30)
    assert inside, "the refresh neither reached its load transaction nor ended within 300 s"
    assert killed.returncode == -signal.SIGKILL, "the refresh ended before its load transaction"
    assert views(warehouse_url) == before, "a load killed half-way changed the views"
    orphans = {pid for pid in helpers if not wait_until(lambda p=pid: not alive(p), 10, 0.1)}
    assert not orphans, f"helper processes {orphans} outlived the killed refresh"

    again = subprocess.run(
        refresh("2013-S2", safety_landing, warehouse_url, statbank_url),
        env=refresh_env(tmp_path),
        text=True,
        capture_output=True,
        timeout=600,
    )
    assert again.returncode == 0 and "Edition 2013-S2:" in again.stdout, again.stderr[-3000:]
    editions = {row["edition_code"] for row in views(warehouse_url)["barometer_edition"]}
    assert editions == {"2012-S2", "2013-S2"}


# --- An edition with nothing to publish ------------------------------------------------------


def test_an_edition_without_any_observation_is_loaded_as_not_measured(warehouse_url):
    """What a refresh loads when no source has a value by the edition's end (a backfill ahead
    of the deliveries): no observations, every catalogue indicator 'not measured'."""
    catalogue, edition = load_catalogue(), "2014-S2"
    request = LoadRequest(
        run_id="empty-run",
        edition=edition,
        edition_end=edition_end(edition),
        started_at=datetime.now(timezone.utc),
        status="completed",
        summary="nothing to publish",
        catalogue=catalogue,
        districts=load_districts("101"),
        deliveries=[],
        observations=pd.DataFrame(columns=KEY),
    )
    engine = connect(warehouse_url)
    try:
        initialise(engine)
        load(
            engine,
            request,
            lambda stored: edition_entries(stored, edition, catalogue, "101"),
            Aggregates(share_indicators(catalogue), lambda city_rows: national_shares(city_rows, catalogue)),
        )
        published = read_edition(engine, edition, "101")
    finally:
        engine.dispose()
    assert set(published["indicator_code"]) == set(catalogue.indicators)
    assert set(published["status"]) == {"not_measured"}


def test_a_refresh_with_nothing_to_publish_ends_with_its_summary(statbank_url, pseudonym_key, tmp_path):
    """An empty landing zone and a StatBank that is down: a summary, exit 1 for the StatBank
    rejection, every indicator 'not measured' in the warehouse, no traceback."""
    landing, warehouse = tmp_path / "empty-landing", f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    landing.mkdir()
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    closed = f"http://127.0.0.1:{bound.getsockname()[1]}/v1"
    env = {**refresh_env(tmp_path), "BAROMETER_STATBANK_DEADLINE_SECONDS": "2"}
    with bound:
        result = subprocess.run(
            refresh("2014-S2", landing, warehouse, closed), env=env, text=True, capture_output=True, timeout=300
        )
    printed = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in printed, printed[-3000:]
    assert "Edition 2014-S2: 0 observations published" in printed
    assert "REJECTED StatBank RAS201" in printed
    statuses = {row["status"] for row in views(warehouse)["barometer_edition"]}
    assert statuses == {"not_measured"}
