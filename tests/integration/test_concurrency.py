"""Run hygiene: two refreshes of one warehouse never interleave.

Both refreshes are real `barometer refresh` processes started at the same moment against the
session's Prefect server: exactly one loads, the other exits non-zero saying another refresh is
running. The landing zone is the demo's safety folder, so the winner holds the lock for the
length of a real (short) refresh.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from barometer.warehouse.lock import refresh_lock
from prefect.settings import PREFECT_API_URL
from sqlalchemy import create_engine, inspect, text

pytestmark = pytest.mark.integration

BUSY = "Another refresh is running against this warehouse"


def distinct_runs(url: str) -> set[str]:
    """The runs that wrote the published edition and deliveries (none in a warehouse never made)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if "barometer_edition" not in inspect(connection).get_view_names():
                return set()
            return set(
                connection.execute(
                    text("SELECT run_id FROM barometer_edition UNION SELECT run_id FROM barometer_delivery")
                ).scalars()
            )
    finally:
        engine.dispose()


def test_a_refresh_while_another_holds_the_warehouse_fails_and_writes_nothing(
    prefect_server, pseudonym_key, demo_data, statbank_url, warehouse_url, tmp_path
):
    """A second refresh of one warehouse never interleaves with the first. The test holds the
    warehouse's refresh lock exactly as a running refresh does (deterministic, unlike racing two
    processes), runs the real CLI, then lets go and runs it again."""
    landing = tmp_path / "landing"
    shutil.copytree(demo_data / "landing" / "safety", landing / "safety")
    command = [
        str(Path(sys.executable).parent / "barometer"),
        "refresh",
        "--edition",
        "2012-S2",
        "--landing",
        str(landing),
        "--warehouse",
        warehouse_url,
        "--statbank-url",
        statbank_url,
    ]
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "BAROMETER_DATA_DOCS_DIR": str(tmp_path / "docs")}

    with refresh_lock(warehouse_url):
        refused = subprocess.run(command, env=env, text=True, capture_output=True, timeout=300)
    assert refused.returncode == 1, refused.stderr[-3000:]
    assert any(line.startswith(BUSY) for line in refused.stderr.splitlines()), refused.stderr[-3000:]
    assert "Traceback" not in refused.stdout + refused.stderr
    assert not distinct_runs(warehouse_url), "the refused refresh wrote nothing"

    loaded = subprocess.run(command, env=env, text=True, capture_output=True, timeout=300)
    assert loaded.returncode == 0 and "Edition 2012-S2:" in loaded.stdout, loaded.stderr[-3000:]
    assert len(distinct_runs(warehouse_url)) == 1, "one refresh wrote"
