"""Shared fixtures: one Prefect test server per session, a fresh PostgreSQL database per test
that asks for one, the demo landing zone and a StatBank stand-in on 127.0.0.1."""

from __future__ import annotations

import os
import re
import shutil
import uuid
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
    yield POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
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
        texts += [cell for sheet in workbook for row in sheet.iter_rows(values_only=True)
                  for cell in row if isinstance(cell, str)]
        workbook.close()
    return {match.replace("-", "") for text in texts for match in CPR_PATTERN.findall(text)}


@pytest.fixture(scope="session")
def find_demo_cprs(demo_data):
    """A function giving the demo's CPR numbers found in a text (written with or without hyphen)."""
    known = landing_cprs(demo_data / "landing")
    assert len(known) > 1000, "the demo landing zone holds CPR numbers to look for"
    return lambda text: {m.replace("-", "") for m in CPR_PATTERN.findall(text)} & known
