"""A refresh takes the warehouse's lock for its load only, never while it waits for StatBank; so
before it loads it checks, under the lock, that no other refresh committed since it read the
warehouse (issue 14). Here refresh A is held at its first StatBank request, which it makes only
after reading the warehouse; refresh B runs and commits meanwhile; then A is let go: it must
write nothing and say why, in one sentence, so that older results never replace newer ones."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BAROMETER = str(Path(sys.executable).parent / "barometer")
COMMITTED_MEANWHILE = (
    "Another refresh committed to this warehouse while this one was reading its inputs. Nothing was "
    "written, so that older results never replace newer ones: run the refresh again."
)
VIEWS = {
    "barometer_edition": "edition_code, indicator_code, group_code, area_code",
    "barometer_delivery": "delivery_id",
    "barometer_observation": "indicator_code, measure, group_code, area_code, reference_date",
}


def published(query, url: str) -> dict[str, list[dict]]:
    """Each view's rows, as text: NaN is not equal to itself."""
    return {
        view: query(url, f"SELECT * FROM {view} ORDER BY {order}").astype(str).to_dict("records")
        for view, order in VIEWS.items()
    }


def test_a_refresh_that_another_overtook_writes_nothing(
    warehouse_url, demo_data, statbank_url, relay_statbank, pseudonym_key, query, tmp_path
):
    landing = tmp_path / "landing"
    shutil.copytree(demo_data / "landing" / "safety", landing / "safety")
    env = {
        **os.environ,
        "BAROMETER_ORCHESTRATION": "local",
        "BAROMETER_DATA_DOCS_DIR": str(tmp_path / "docs"),
        "BAROMETER_STATBANK_DEADLINE_SECONDS": "120",
    }

    def refresh(statbank: str) -> list[str]:
        command = [BAROMETER, "refresh", "--edition", "2013-S2", "--landing", str(landing)]
        return [*command, "--warehouse", warehouse_url, "--statbank-url", statbank]

    asked, release = threading.Event(), threading.Event()

    def hold(endpoint: str, table: str) -> None:
        asked.set()
        release.wait(120)

    with relay_statbank(statbank_url, hold) as held_statbank:
        overtaken = subprocess.Popen(
            refresh(held_statbank), env=env, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            assert asked.wait(120), "refresh A never asked StatBank"
            overtaking = subprocess.run(refresh(statbank_url), env=env, text=True, capture_output=True, timeout=300)
            assert overtaking.returncode == 0, overtaking.stderr[-3000:]
            after_b = published(query, warehouse_url)
        finally:
            release.set()
            _, stderr = overtaken.communicate(timeout=300)

    assert overtaken.returncode == 1, stderr[-3000:]
    assert stderr.strip().splitlines()[-1] == COMMITTED_MEANWHILE and "Traceback" not in stderr, stderr[-3000:]
    assert published(query, warehouse_url) == after_b, "the overtaken refresh changed the warehouse"
    assert {row["edition_code"] for row in after_b["barometer_edition"]} == {"2013-S2"}
