"""Least privilege on PostgreSQL, set up as in production (the loader owns the database but is no
superuser and may not create roles): a person granted `barometer_analyst` reads the public views
and can change, create or peek behind nothing; creating the role survives a concurrent creation,
and a loader that may not create it is told what to do."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date, datetime, timezone

import pandas as pd
import psycopg
import pytest
from barometer.config import load_catalogue, load_districts
from barometer.transforms.editions import edition_entries
from barometer.transforms.national import national_shares, share_indicators
from barometer.validations.common import PERSONAL_COLUMNS
from barometer.warehouse import schema
from barometer.warehouse.database import connect, initialise
from barometer.warehouse.load import Aggregates, LoadRequest, load
from barometer.warehouse.roles import ANALYST_ROLE, create_role
from sqlalchemy import text
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.postgres

EDITION = "2012-S2"
PERMISSION_DENIED = psycopg.errors.InsufficientPrivilege
NOT_UPDATABLE = psycopg.errors.ObjectNotInPrerequisiteState
# One published youth-education value, as a refresh would load it.
OBSERVATION = {
    "indicator_code": "1.2",
    "measure": "value",
    "group_code": "danish",
    "area_code": "101",
    "reference_date": date(2012, 10, 1),
    "value": 80.0,
    "numerator": 40.0,
    "denominator": 50.0,
    "n": 50.0,
    "ci_low": None,
    "ci_high": None,
    "obs_status": "normal",
    "delivery_id": "d1",
}
DELIVERY = {
    "delivery_id": "d1",
    "source": "youth_education",
    "name": "youth_education/status.xlsx",
    "reference_date": date(2012, 10, 1),
    "sha256": "0" * 64,
    "rows": 50,
    "status": "loaded",
    "message": None,
    "key_version": "abcd1234",
}


def load_one_observation(url: str) -> None:
    """initialise + one transactional load: the warehouse a refresh leaves, in miniature."""
    catalogue = load_catalogue()
    engine = connect(url)
    try:
        initialise(engine)
        initialise(engine)  # every refresh initialises again: the grants must be idempotent
        load(
            engine,
            LoadRequest(
                run_id="run-1",
                edition=EDITION,
                edition_end=date(2012, 12, 31),
                started_at=datetime.now(timezone.utc),
                status="completed",
                summary="test load",
                catalogue=catalogue,
                districts=load_districts("101"),
                deliveries=[DELIVERY],
                observations=pd.DataFrame([OBSERVATION]),
            ),
            lambda stored: edition_entries(stored, EDITION, catalogue, "101"),
            Aggregates(share_indicators(catalogue), lambda city_rows: national_shares(city_rows, catalogue)),
        )
    finally:
        engine.dispose()


def psycopg_url(url: str, user: str | None = None) -> str:
    """The SQLAlchemy URL as libpq takes it, optionally for another user (trust auth here)."""
    parsed = make_url(url).set(drivername="postgresql")
    return (parsed.set(username=user) if user else parsed).render_as_string(hide_password=False)


def administer(url: str) -> psycopg.Connection:
    return psycopg.connect(psycopg_url(url), autocommit=True)


def unique(kind: str) -> str:
    """A role name no other test on this server uses (roles are server-wide)."""
    return f"barometer_test_{kind}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def loader_url(postgres_url):
    """The warehouse as production runs it: loaded by a login role that owns the database but is
    neither superuser nor allowed to create roles (a DBA made barometer_analyst beforehand)."""
    loader, database = unique("loader"), make_url(postgres_url).database
    engine = connect(postgres_url)
    with engine.begin() as connection:
        create_role(connection, ANALYST_ROLE)
    engine.dispose()
    with administer(postgres_url) as admin:
        admin.execute(f"CREATE ROLE {loader} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB")
        admin.execute(f'ALTER DATABASE "{database}" OWNER TO {loader}')
    url = make_url(postgres_url).set(username=loader).render_as_string(hide_password=False)
    try:
        load_one_observation(url)
        yield url
    finally:
        with administer(postgres_url) as admin:
            admin.execute(f"DROP OWNED BY {loader}")
            admin.execute(f'ALTER DATABASE "{database}" OWNER TO CURRENT_USER')
            admin.execute(f"DROP ROLE {loader}")


@pytest.fixture
def reader(postgres_url, loader_url):
    """A person's login role granted barometer_analyst, connected to the loaded warehouse."""
    name = unique("reader")
    with administer(postgres_url) as admin:
        admin.execute(f"CREATE ROLE {name} LOGIN")
        admin.execute(f"GRANT {ANALYST_ROLE} TO {name}")
    try:
        with psycopg.connect(psycopg_url(loader_url, name), autocommit=True) as connection:
            yield connection
    finally:
        with administer(postgres_url) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {name}")


def test_analyst_reads_exactly_the_public_views(reader):
    rows = reader.execute(
        "SELECT indicator_code, group_code, value FROM barometer_edition "
        "WHERE edition_code = %s AND area_code = '101' AND indicator_code = '1.2'",
        [EDITION],
    ).fetchall()
    assert rows == [("1.2", "danish", 80.0)]
    readable = {
        row[0]
        for row in reader.execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND has_table_privilege(c.oid, 'SELECT') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        )
    }
    assert readable == {f"public.{view}" for view in schema.PUBLIC_VIEWS}


def test_analyst_holds_no_write_privilege_anywhere(reader):
    writable = reader.execute(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    ).fetchall()
    assert writable == []


def test_analyst_cannot_change_the_views(reader):
    # a view over one table is updatable, so only the missing privilege stops it; a join never is
    statements = [
        "INSERT INTO barometer_observation (indicator_code) VALUES ('x')",
        "UPDATE barometer_edition SET value = 0",
        "DELETE FROM indicator_catalogue",
        "INSERT INTO barometer_delivery (delivery_id) VALUES ('x')",
        "UPDATE barometer_delivery SET status = 'loaded'",
        "DELETE FROM barometer_delivery",
    ]
    assert accepted(reader, statements, (PERMISSION_DENIED, NOT_UPDATABLE)) == []


def test_analyst_cannot_read_internals_or_create(reader):
    statements = [
        "SELECT * FROM barometer_core.observation",
        "SELECT * FROM barometer_core.delivery",
        "INSERT INTO barometer_core.run (run_id) VALUES ('x')",
        "UPDATE barometer_core.edition_entry SET value = 0",
        "DELETE FROM barometer_core.observation",
        "CREATE TABLE public.analyst_notes (note text)",
        "CREATE VIEW public.analyst_view AS SELECT 1 AS one",
        "CREATE SCHEMA analyst_schema",
    ]
    assert accepted(reader, statements, PERMISSION_DENIED) == []


def accepted(connection, statements: list[str], refusal) -> list[str]:
    """The statements that ran; each of the others must fail with `refusal`."""
    ran = []
    for statement in statements:
        try:
            connection.execute(statement)
            ran.append(statement)
        except refusal:
            pass
    return ran


def test_no_person_level_column_anywhere_in_the_warehouse(loader_url):
    engine = connect(loader_url)
    try:
        with engine.connect() as connection:
            columns = set(
                connection.execute(
                    text("SELECT column_name FROM information_schema.columns WHERE table_schema IN ('public', :core)"),
                    {"core": schema.CORE_SCHEMA},
                ).scalars()
            )
    finally:
        engine.dispose()
    assert "value" in columns and not columns & {*PERSONAL_COLUMNS, "cpr", "birth_date"}


def test_a_loader_that_may_not_create_the_role_is_told_what_to_do(loader_url):
    role = unique("group")
    engine = connect(loader_url)
    try:
        with pytest.raises(PermissionError, match=f"run `CREATE ROLE {role} NOLOGIN;` once"):
            with engine.begin() as connection:
                create_role(connection, role)
    finally:
        engine.dispose()


def test_concurrent_creation_of_a_role_is_harmless(postgres_url):
    """Two initialisations on one server race to create the role: the second waits for the
    first's transaction, then finds the role made and carries on."""
    role = unique("group")
    first, second = connect(postgres_url), connect(postgres_url)
    errors: list[BaseException] = []

    def create_in_second() -> None:
        try:
            with second.begin() as connection:
                create_role(connection, role)
        except BaseException as error:  # noqa: BLE001 - reported to the test thread below
            errors.append(error)

    racer = threading.Thread(target=create_in_second)
    try:
        with first.begin() as connection:
            create_role(connection, role)
            racer.start()
            wait_until_blocked(connection)
        racer.join(timeout=30)
        assert not racer.is_alive() and not errors, errors
        with first.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM pg_roles WHERE rolname = :role"), {"role": role})
            assert count.scalar() == 1
    finally:
        if racer.is_alive():
            racer.join(timeout=30)  # its CREATE may still commit: drop the role after it
        with first.begin() as connection:
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        first.dispose()
        second.dispose()


def wait_until_blocked(connection, seconds: float = 20) -> None:
    """Until another session waits for a lock this transaction holds (statistics are cached per
    transaction: clear them before each look)."""
    deadline = time.monotonic() + seconds
    query = text("SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
    while True:
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        if connection.execute(query).scalar():
            return
        assert time.monotonic() < deadline, "the second CREATE ROLE never waited for the first"
        time.sleep(0.05)
