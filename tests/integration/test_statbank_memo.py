"""Within one process (a backfill, the demo) StatBank is asked once per table, and a failed
fetch is not asked again edition after edition (issue 14). A local backfill over three editions,
run in this process against the StatBank stand-in (behind a relay that counts its requests) and
against an impostor that answers garbage."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
from typer.testing import CliRunner

from barometer.cli import app

pytestmark = pytest.mark.integration

EDITIONS = ["2011-S2", "2012-S1", "2012-S2"]


@pytest.fixture
def safety_landing(demo_data, tmp_path):
    """The demo's safety folder only: a short refresh, StatBank's tables beside it."""
    landing = tmp_path / "landing"
    shutil.copytree(demo_data / "landing" / "safety", landing / "safety")
    return landing


def backfill(landing, tmp_path, statbank_url: str, monkeypatch):
    monkeypatch.setenv("BAROMETER_ORCHESTRATION", "local")
    monkeypatch.setenv("BAROMETER_STATBANK_DEADLINE_SECONDS", "30")
    warehouse = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    command = ["backfill", "--from", EDITIONS[0], "--to", EDITIONS[-1], "--landing", str(landing)]
    return CliRunner().invoke(app, [*command, "--warehouse", warehouse, "--statbank-url", statbank_url])


def test_a_backfill_asks_statbank_once_per_table(
    safety_landing, statbank_url, relay_statbank, pseudonym_key, tmp_path, monkeypatch
):
    asked = Counter()
    with relay_statbank(statbank_url, lambda endpoint, table: asked.update([(endpoint, table)])) as relayed:
        done = backfill(safety_landing, tmp_path, relayed, monkeypatch)
    assert done.exit_code == 0, done.output[-3000:]
    assert f"{len(EDITIONS)} of {len(EDITIONS)} editions refreshed" in done.output
    assert done.output.count("loaded   employment:") == len(EDITIONS), done.output[-3000:]
    data = {table: count for (endpoint, table), count in asked.items() if endpoint == "data"}
    assert data and set(data.values()) == {1}, f"data requests per table: {data}"
    assert set(asked.values()) == {1}, f"requests per endpoint and table: {dict(asked)}"


def test_a_failed_fetch_is_not_asked_again_edition_after_edition(
    safety_landing, stub_statbank, pseudonym_key, tmp_path, monkeypatch
):
    """HTTP 200 with a body that is not the API's: not worth a retry, so each table is asked
    once; every edition still names the rejection and publishes the rest."""
    with stub_statbank((200, "text/html", b"<html>a proxy's login page</html>", 0.0)) as (url, received):
        done = backfill(safety_landing, tmp_path, url, monkeypatch)
    assert done.exit_code == 1, done.output[-3000:]
    for edition in EDITIONS:
        assert f"Edition {edition}: " in done.output
    assert done.output.count("REJECTED StatBank") == len(EDITIONS), done.output[-3000:]
    assert done.output.count("loaded   safety:") == len(EDITIONS), done.output[-3000:]
    tables = Counter(body.get("table", "").upper() for body in received)
    assert tables and set(tables.values()) == {1}, f"requests per table: {dict(tables)}"
