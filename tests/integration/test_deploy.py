"""The scheduled refresh on a real Prefect server, the way operations runs it: `prefect server
start`, `barometer deploy`, a process worker, a triggered run of barometer-refresh/half-yearly,
then the warehouse and the artifacts.

This server is not the session harness: it gets its own PREFECT_HOME, port and database (a fresh
PostgreSQL database, as in production: on a busy machine a SQLite one locks and triples the run's
time). Subprocesses reach it through PREFECT_API_URL in their environment, this process through a
client built for its URL or a scoped setting, never os.environ. The landing zone is the demo's
safety folder (plus StatBank): enough for real values while keeping the run short.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path

import pytest
from barometer.config import Edition
from barometer.flows.deploy import HALF_YEARLY, PROJECT_DIR, TIME_ZONE, register
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    ArtifactFilter,
    ArtifactFilterFlowRunId,
)
from prefect.server.schemas.schedules import CronSchedule
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
ARTIFACT_KEYS = ["barometer-edition", "barometer-run-summary"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prefect_env(home: Path, api_url: str) -> dict[str, str]:
    """This process's environment minus any Prefect setting, pointed at the test's own server."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    return env | {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
    }


@contextmanager
def background(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A long-running subprocess in its own process group, ended with everything it started."""
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield process
        finally:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)  # the shutdown Ctrl-C gives
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
            process.wait()


def wait_until_healthy(api_url: str, server: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, f"prefect server exited:\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"prefect server not healthy after {seconds} s:\n{log.read_text()[-3000:]}")


def barometer_deploy(env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(BIN / "barometer"), "deploy"], env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def wait_for_final_state(client: SyncPrefectClient, flow_run_id, worker_log: Path, seconds: float = 300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = client.read_flow_run(flow_run_id)
        if run.state and run.state.is_final():
            return run
        time.sleep(1)
    pytest.fail(f"flow run not finished after {seconds} s; worker log:\n{worker_log.read_text()[-3000:]}")


def query(url: str, sql: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).all()
    finally:
        engine.dispose()


def test_schedule_means_15_march_and_15_september_0600_copenhagen():
    """The cron the deployment carries, read by Prefect's own scheduler code, and the edition each
    date's run defaults to."""
    runs = asyncio.run(
        CronSchedule(cron=HALF_YEARLY, timezone=TIME_ZONE).get_dates(
            n=2, start=datetime(2026, 1, 1, tzinfo=timezone.utc)
        )
    )
    assert [run.astimezone(timezone.utc) for run in runs] == [
        datetime(2026, 3, 15, 5, 0, tzinfo=timezone.utc),  # CET, UTC+1
        datetime(2026, 9, 15, 4, 0, tzinfo=timezone.utc),  # CEST, UTC+2
    ]
    assert [Edition.latest_complete(run.date()).code for run in runs] == ["2025-S2", "2026-S1"]


def test_deployed_refresh_runs_on_a_worker(tmp_path, demo_data, statbank_url, pseudonym_key, postgres_url):
    landing = tmp_path / "landing"
    shutil.copytree(demo_data / "landing" / "safety", landing / "safety")
    warehouse = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = prefect_env(tmp_path / "prefect-home", api_url) | {"BAROMETER_DATA_DOCS_DIR": str(tmp_path / "docs")}
    server_log, worker_log = tmp_path / "server.log", tmp_path / "worker.log"

    server_env = env | {"PREFECT_SERVER_DATABASE_CONNECTION_URL": postgres_url.replace("+psycopg", "+asyncpg")}

    with background(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], server_env, server_log
    ) as server:
        wait_until_healthy(api_url, server, server_log)
        first = barometer_deploy(env)
        with (
            background([str(BIN / "prefect"), "worker", "start", "--pool", "barometer"], env, worker_log),
            SyncPrefectClient(api_url) as client,
        ):
            flow_run = client.create_flow_run_from_deployment(
                client.read_deployment_by_name("barometer-refresh/half-yearly").id,
                parameters={
                    "edition": "2012-S2",
                    "landing": str(landing),
                    "warehouse": warehouse,
                    "statbank_url": statbank_url,
                },
            )
            with temporary_settings({PREFECT_API_URL: api_url}):  # again, as the command does
                again = "\n".join(register())
            finished = wait_for_final_state(client, flow_run.id, worker_log)
            refresh = client.read_deployment_by_name("barometer-refresh/half-yearly")
            backfill = client.read_deployment_by_name("barometer-backfill/on-demand")
            pool = client.read_work_pool("barometer")
            on_run = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]))
            )
            latest = client.read_latest_artifacts(
                artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=ARTIFACT_KEYS))
            )

    assert "'barometer' (process): created" in first and "'barometer' (process): already there" in again
    assert [(s.schedule.cron, s.schedule.timezone) for s in refresh.schedules] == [
        ("0 6 15 3,9 *", "Europe/Copenhagen")
    ], "one schedule, also after deploying twice"
    assert refresh.parameters == {}, "unset parameters fall back to the worker's environment"
    assert backfill.schedules == []
    assert refresh.work_pool_name == backfill.work_pool_name == pool.name and pool.type == "process"
    assert finished.state.is_completed(), f"{finished.state.message}\n{worker_log.read_text()[-3000:]}"
    assert finished.name == "refresh-2012-S2" and finished.deployment_id == refresh.id

    assert sorted((a.key, a.type) for a in on_run) == [
        ("barometer-edition", "table"),
        ("barometer-run-summary", "markdown"),
    ]
    assert sorted(a.key for a in latest) == ARTIFACT_KEYS
    assert {a.flow_run_id for a in latest} == {flow_run.id}
    artifacts = {a.key: a.data for a in on_run}
    table = {row["indicator_code"]: row for row in json.loads(artifacts["barometer-edition"])}
    assert table["5.2"]["value"] == 7 and table["5.2"]["reference_date"] == "2012-12-31"
    assert artifacts["barometer-run-summary"].startswith("# Refresh of 2012-S2")
    assert "| safety | loaded: 4 deliveries in force |" in artifacts["barometer-run-summary"]

    edition = query(
        warehouse,
        "SELECT indicator_code, reference_date, value, run_id FROM barometer_edition "
        "WHERE edition_code = '2012-S2' AND area_code = '101' AND value IS NOT NULL",
    )
    values = {row.indicator_code: (str(row.reference_date)[:10], round(row.value, 1)) for row in edition}
    # Spec: 5.1 = 5 and 5.2 = 7 areas in 2012; 2.1 = 10.8 % in 2012 (RAS201, end of November).
    assert values == {"2.1": ("2012-11-30", 10.8), "5.1": ("2012-12-31", 5.0), "5.2": ("2012-12-31", 7.0)}
    assert {row.run_id for row in edition} == {str(flow_run.id)}, "written by the worker's run"
