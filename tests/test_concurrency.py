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
from sqlalchemy import create_engine, text

from flows.ingest import ingest_employment

pytestmark = pytest.mark.integration

BUSY = "Another refresh is running against this warehouse"


def distinct_runs(url: str) -> set[str]:
    """The runs that wrote the published edition and deliveries."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text(
                "SELECT run_id FROM barometer_edition UNION SELECT run_id FROM barometer_delivery")).scalars())
    finally:
        engine.dispose()


def test_two_refreshes_at_once_one_loads_the_other_fails(
        prefect_server, pseudonym_key, demo_data, statbank_url, warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(demo_data / "landing" / "safety", landing / "safety")
    command = [str(Path(sys.executable).parent / "barometer"), "refresh", "--edition", "2012-S2",
               "--landing", str(landing), "--warehouse", warehouse_url, "--statbank-url", statbank_url]
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(),
           "BAROMETER_DATA_DOCS_DIR": str(tmp_path / "docs")}

    pair = [subprocess.Popen(command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)]
    outputs = [process.communicate(timeout=300) for process in pair]
    (loaded, loaded_out, _), (refused, _, refused_err) = sorted(
        (process.returncode, *output) for process, output in zip(pair, outputs))

    assert loaded == 0 and "Edition 2012-S2:" in loaded_out
    assert refused == 1 and refused_err.rstrip().splitlines()[-1].startswith(BUSY), refused_err[-3000:]
    assert len(distinct_runs(warehouse_url)) == 1, "only one refresh wrote"


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
