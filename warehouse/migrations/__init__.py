"""The warehouse's schema history as Alembic revisions (`versions/`), run by
`warehouse.database.initialise`. Helpers shared by the revisions live here.

The public views are part of each revision that changes them, written out in full: a view is
replaced as a whole, so every revision states exactly what analysts see from then on.
"""

from __future__ import annotations

from alembic import op
from barometer.warehouse.database import internal_schema


def core_schema() -> str | None:
    """The internal tables' schema on the database being migrated (None on SQLite)."""
    return internal_schema(op.get_bind())


def _with_prefix(sql: str) -> str:
    schema = core_schema()
    return sql.replace("{core}", f"{schema}." if schema else "")


def create_views(views: dict[str, str]) -> None:
    """Create views from `name -> SELECT` ({core} stands for the internal schema's prefix)."""
    for name, select in views.items():
        op.execute(f"CREATE VIEW {name} AS\n{_with_prefix(select)}")


def drop_views(names) -> None:
    for name in names:
        op.execute(f"DROP VIEW IF EXISTS {name}")


def replace_views(views: dict[str, str]) -> None:
    """Redefine views. PostgreSQL replaces them in place, which keeps the grants analysts read
    them by (new columns must come last); SQLite cannot, so it drops and recreates them."""
    if core_schema() is None:
        drop_views(views)
        create_views(views)
        return
    for name, select in views.items():
        op.execute(f"CREATE OR REPLACE VIEW {name} AS\n{_with_prefix(select)}")


def views_of(revision: str) -> dict[str, str]:
    """The views as an earlier revision defined them (for downgrades to restore)."""
    script = op.get_context().script
    assert script is not None, "migrations run from their script directory"
    return script.get_revision(revision).module.VIEWS
