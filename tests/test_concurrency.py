"""Run hygiene: two refreshes of one warehouse never interleave, and only an unavailable StatBank
is retried.

Both refreshes are real `barometer refresh` processes started at the same moment against the
session's Prefect server: exactly one loads, the other exits non-zero saying another refresh is
running. The landing zone is the demo's safety folder, so the winner holds the lock for the
length of a real (short) refresh.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter, TaskRunFilterName
from prefect.settings import PREFECT_API_URL
from sqlalchemy import create_engine, inspect, text

from barometer.flows.ingest import ingest_employment
from barometer.warehouse.lock import refresh_lock

pytestmark = pytest.mark.integration

BUSY = "Another refresh is running against this warehouse"


def distinct_runs(url: str) -> set[str]:
    """The runs that wrote the published edition and deliveries (none in a warehouse never made)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if "barometer_edition" not in inspect(connection).get_view_names():
                return set()
            return set(connection.execute(text(
                "SELECT run_id FROM barometer_edition UNION SELECT run_id FROM barometer_delivery")).scalars())
    finally:
        engine.dispose()


def test_a_refresh_while_another_holds_the_warehouse_fails_and_writes_nothing(
        prefect_server, pseudonym_key, demo_data, statbank_url, warehouse_url, tmp_path):
    """A second refresh of one warehouse never interleaves with the first. The test holds the
    warehouse's refresh lock exactly as a running refresh does (deterministic, unlike racing two
    processes), runs the real CLI, then lets go and runs it again."""
    landing = tmp_path / "landing"
    shutil.copytree(demo_data / "landing" / "safety", landing / "safety")
    command = [str(Path(sys.executable).parent / "barometer"), "refresh", "--edition", "2012-S2",
               "--landing", str(landing), "--warehouse", warehouse_url, "--statbank-url", statbank_url]
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(),
           "BAROMETER_DATA_DOCS_DIR": str(tmp_path / "docs")}

    with refresh_lock(warehouse_url):
        refused = subprocess.run(command, env=env, text=True, capture_output=True, timeout=300)
    assert refused.returncode == 1, refused.stderr[-3000:]
    assert any(line.startswith(BUSY) for line in refused.stderr.splitlines()), refused.stderr[-3000:]
    assert "Traceback" not in refused.stdout + refused.stderr
    assert not distinct_runs(warehouse_url), "the refused refresh wrote nothing"

    loaded = subprocess.run(command, env=env, text=True, capture_output=True, timeout=300)
    assert loaded.returncode == 0 and "Edition 2012-S2:" in loaded.stdout, loaded.stderr[-3000:]
    assert len(distinct_runs(warehouse_url)) == 1, "one refresh wrote"


def closed_port_url() -> tuple[socket.socket, str]:
    """A URL on a port that is bound but not listening: every connection is refused."""
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    return bound, f"http://127.0.0.1:{bound.getsockname()[1]}/v1"


@pytest.mark.parametrize("unavailable", [True, False], ids=["no-answer", "refused-request"])
def test_statbank_fetch_is_retried_only_when_unavailable(prefect_server, monkeypatch, statbank_url, unavailable):
    """config/sources.yaml: 2 task retries, only when the API did not answer (after the HTTP
    client's own retries); a request the API refuses (HTTP 404 here) fails at once."""
    monkeypatch.setenv("BAROMETER_STATBANK_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("BAROMETER_STATBANK_RETRY_DELAY_SECONDS", "0")
    bound, closed_url = closed_port_url()

    @flow(persist_result=False)
    def fetch_only() -> tuple:
        ingest = ingest_employment(closed_url if unavailable else f"{statbank_url}/moved", "101",
                                   date(2012, 12, 31), return_state=True)
        return ingest.state_details.flow_run_id, ingest.result()

    with bound:
        ingest_run, result = fetch_only()
    assert result.errors and not result.staged
    with get_client(sync_client=True) as client:
        (fetch,) = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[ingest_run])),
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=["fetch StatBank KAS201"])))
    assert fetch.run_count == (3 if unavailable else 1)
