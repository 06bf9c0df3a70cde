"""Connecting to the warehouse and creating its schema: the first refresh against an empty
database creates everything; later ones find it in place."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text

from warehouse.schema import CORE_SCHEMA, PUBLIC_VIEWS, metadata

VIEWS_SQL = Path(__file__).with_name("views.sql")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def connect(url: str) -> Engine:
    """An engine for an SQLAlchemy URL; SQLite gets the internal schema translated away."""
    engine = create_engine(url, future=True)
    if is_sqlite(engine):
        engine = engine.execution_options(schema_translate_map={CORE_SCHEMA: None})
    return engine


def _view_statements(engine: Engine) -> dict[str, str]:
    prefix = "" if is_sqlite(engine) else f"{CORE_SCHEMA}."
    statements = [s.strip() for s in VIEWS_SQL.read_text(encoding="utf-8").split(";") if s.strip()]
    by_name = {}
    for statement in statements:
        body = "\n".join(line for line in statement.splitlines() if not line.startswith("--"))
        name = body.split()[2]
        by_name[name] = body.replace("{core}", prefix)
    assert sorted(by_name) == sorted(PUBLIC_VIEWS), "views.sql must define exactly the public views"
    return by_name


def initialise(engine: Engine) -> None:
    """Create the internal schema, tables and public views where missing (idempotent)."""
    with engine.begin() as connection:
        if not is_sqlite(engine):
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {CORE_SCHEMA}"))
        metadata.create_all(connection)
        existing = set(inspect(connection).get_view_names())
        for name, statement in _view_statements(engine).items():
            if name not in existing:
                connection.execute(text(statement))
        if not is_sqlite(engine):
            from warehouse.roles import ensure_analyst_role

            ensure_analyst_role(connection)
