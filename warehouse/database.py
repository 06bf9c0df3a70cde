"""Connecting to the warehouse and bringing its schema up to date: the first refresh against an
empty database creates everything; later ones apply whatever Alembic revisions are new.

A warehouse that cannot be reached, opened or written (a missing or read-only folder, a full
disk, a refused login, an unreachable host) is one `WarehouseUnavailable` sentence naming it and
what to do, checked before a refresh reads anything.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from barometer.warehouse.schema import CORE_SCHEMA
from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

if TYPE_CHECKING:  # Alembic is imported where it is used: readers of the warehouse never need it
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"  # the revision a warehouse made before migrations existed is at
CONNECT_TIMEOUT_SECONDS = 10  # PostgreSQL: an unreachable host fails in seconds, not TCP's minutes
WHERE = "--warehouse / BAROMETER_WAREHOUSE_URL"
MAKE_WRITABLE = f"make it writable for the user running the refresh, or point {WHERE} elsewhere"
FREE_SPACE = "free space on its disk and run the refresh again"

# What a driver's message means (lower case words in it), and what to do about it. Any error may
# say the last two; the others only count in an OperationalError (the connection or the disk).
ACCESS_PROBLEMS = [
    (("file is not a database",), "is not an SQLite database", f"point {WHERE} at the warehouse file"),
    (
        ("permission denied",),
        "refuses this login what a refresh does",
        "refresh with the warehouse owner's login (analysts' logins only read)",
    ),
]
OPERATIONAL_PROBLEMS = [
    (
        ("password authentication failed", "no password supplied", 'role "'),
        "refused the login",
        "check the user in the URL and its password in ~/.pgpass or PGPASSWORD",
    ),
    (('database "',), "has no such database", f"create it (createdb) or correct the database name in {WHERE}"),
    (
        (
            "connection refused",
            "could not translate host name",
            "name or service not known",
            "timeout expired",
            "no route to host",
            "network is unreachable",
        ),
        "cannot be reached",
        f"check the host and port in {WHERE} and that PostgreSQL is running there",
    ),
    (
        ("database or disk is full", "no space left on device", "disk quota exceeded"),
        "is out of disk space",
        FREE_SPACE,
    ),
    (("attempt to write a readonly database", "read-only file system"), "is read-only", MAKE_WRITABLE),
    (("unable to open database file",), "cannot be opened (its folder is missing or not writable)", MAKE_WRITABLE),
    *ACCESS_PROBLEMS,
]
FILE_PROBLEMS = {  # errno of a refused file operation beside an SQLite warehouse
    errno.EACCES: ("may not be written by this user", MAKE_WRITABLE),
    errno.EPERM: ("may not be written by this user", MAKE_WRITABLE),
    errno.EROFS: ("is on a read-only file system", MAKE_WRITABLE),
    errno.ENOSPC: ("is out of disk space", FREE_SPACE),
    errno.EDQUOT: ("is out of disk space", FREE_SPACE),
    errno.ENOENT: ("does not exist", f"create it, or point {WHERE} at a folder that exists"),
}


class WarehouseUnavailable(Exception):
    """The warehouse cannot be reached, opened or written. The message is one sentence naming it
    (never its password) and what to do; nothing was written."""

    def __init__(self, url: str, problem: str, remedy: str) -> None:
        super().__init__(f"The warehouse {shown(url)} {problem}: {remedy}; nothing was written.")


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def internal_schema(engine: Engine | Connection) -> str | None:
    """Where the internal tables live: barometer_core on PostgreSQL; SQLite has no schemas."""
    return None if is_sqlite(engine) else CORE_SCHEMA


def shown(url: str) -> str:
    """The URL as messages may show it: the password, if any, masked."""
    return make_url(url).render_as_string(hide_password=True)


def connect(url: str) -> Engine:
    """An engine for an SQLAlchemy URL; SQLite gets the internal schema translated away, and
    PostgreSQL a connect timeout unless the URL sets one."""
    parsed = make_url(url)
    options = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    engine = create_engine(url, future=True, **options)
    if is_sqlite(engine):
        engine = engine.execution_options(schema_translate_map={CORE_SCHEMA: None})
    return engine


def sqlite_path(engine: Engine) -> Path | None:
    """The file of an SQLite warehouse; None for PostgreSQL, memory and `file:` URIs."""
    database = engine.url.database
    if not is_sqlite(engine) or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def warehouse_exists(engine: Engine) -> bool:
    """False for an SQLite file not created yet (connecting would create it); True otherwise."""
    path = sqlite_path(engine)
    return path is None or path.exists()


@contextmanager
def explained_faults(url: str) -> Iterator[None]:
    """Within this block, the ways the warehouse cannot be reached, opened or written (the
    driver's errors, a refused file operation) become WarehouseUnavailable; others stay bugs."""
    try:
        yield
    except DBAPIError as error:
        operational = isinstance(error, OperationalError)
        message = str(error.orig or error).casefold()
        for words, problem, remedy in OPERATIONAL_PROBLEMS if operational else ACCESS_PROBLEMS:
            if any(word in message for word in words):
                raise WarehouseUnavailable(url, problem, remedy) from None
        if not operational:
            raise
        first_line = str(error.orig or error).strip().splitlines()[0]
        raise WarehouseUnavailable(
            url, f"could not be used ({first_line})", f"check {WHERE} and this login's access"
        ) from None
    except OSError as error:
        if error.errno not in FILE_PROBLEMS:
            raise
        folder = Path(error.filename).parent if error.filename else "its folder"
        problem, remedy = FILE_PROBLEMS[error.errno]
        raise WarehouseUnavailable(url, f"cannot be written: {folder} {problem}", remedy) from None


def check_writable(url: str) -> None:
    """Before a refresh reads anything: the warehouse can be reached and opened, and an SQLite
    warehouse's folder and file written (the file is not created here). WarehouseUnavailable if not."""
    engine = connect(url)
    path = sqlite_path(engine)
    try:
        if path is not None:
            _check_sqlite_folder(url, path)
        if warehouse_exists(engine):
            with explained_faults(url), engine.connect() as connection:
                connection.execute(text("SELECT count(*) FROM sqlite_master" if path else "SELECT 1"))
    finally:
        engine.dispose()


def _check_sqlite_folder(url: str, database: Path) -> None:
    """SQLite writes the file and, beside it, its journal; the refresh lock lives there too."""
    folder = database.absolute().parent
    if not folder.is_dir():
        raise WarehouseUnavailable(
            url, f"cannot be written: {folder} {FILE_PROBLEMS[errno.ENOENT][0]}", FILE_PROBLEMS[errno.ENOENT][1]
        )
    for path, access in ((folder, os.W_OK | os.X_OK), (database, os.R_OK | os.W_OK)):
        if path.exists() and not os.access(path, access):
            raise WarehouseUnavailable(url, f"cannot be written: {path} is read-only for this user", MAKE_WRITABLE)


def head_revision() -> str:
    """The newest revision shipped: revision files are named '<revision>_<slug>.py', numbered."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def _current_revision(connection: Connection) -> str | None:
    schema = internal_schema(connection)
    if not inspect(connection).has_table("alembic_version", schema):
        return None
    table = f"{schema}.alembic_version" if schema else "alembic_version"
    return connection.execute(text(f"SELECT version_num FROM {table}")).scalar()


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration, built in code: the revisions shipped in the package, run on
    `connection` (no alembic.ini, so the installed package migrates wherever it runs)."""
    from alembic.config import Config

    # The stream is passed now: Config's default is whatever sys.stdout was when Alembic was
    # first imported, which may be a capture stream closed since (a CLI runner, a test).
    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _made_before_migrations(connection: Connection) -> bool:
    """Tables without Alembic's version table: the pre-migration code made them, as `BASELINE`."""
    inspector = inspect(connection)
    schema = internal_schema(connection)
    return inspector.has_table("observation", schema) and not inspector.has_table("alembic_version", schema)


def initialise(engine: Engine) -> None:
    """Upgrade the warehouse to the newest schema revision in one transaction (idempotent).
    A warehouse already at the newest revision costs one query, not Alembic's start-up."""
    if warehouse_exists(engine):
        with engine.connect() as connection:
            if _current_revision(connection) == head_revision():
                return
    from alembic import command

    with engine.begin() as connection:
        if not is_sqlite(engine):
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {CORE_SCHEMA}"))
        config = alembic_config(connection)
        if _made_before_migrations(connection):
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
        if not is_sqlite(engine):
            from barometer.warehouse.roles import ensure_analyst_role

            ensure_analyst_role(connection)
