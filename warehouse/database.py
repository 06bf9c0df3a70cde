"""Connecting to the warehouse and bringing its schema up to date: the first refresh against an
empty database creates everything; later ones apply whatever Alembic revisions are new."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, inspect, text

from barometer.warehouse.schema import CORE_SCHEMA

if TYPE_CHECKING:  # Alembic is imported where it is used: readers of the warehouse never need it
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"  # the revision a warehouse made before migrations existed is at


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def internal_schema(engine: Engine | Connection) -> str | None:
    """Where the internal tables live: barometer_core on PostgreSQL; SQLite has no schemas."""
    return None if is_sqlite(engine) else CORE_SCHEMA


def connect(url: str) -> Engine:
    """An engine for an SQLAlchemy URL; SQLite gets the internal schema translated away."""
    engine = create_engine(url, future=True)
    if is_sqlite(engine):
        engine = engine.execution_options(schema_translate_map={CORE_SCHEMA: None})
    return engine


def warehouse_exists(engine: Engine) -> bool:
    """False for an SQLite file not created yet (connecting would create it); True otherwise."""
    database = engine.url.database
    if not is_sqlite(engine) or not database or database == ":memory:" or database.startswith("file:"):
        return True
    return Path(database).exists()


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
