"""Least privilege on PostgreSQL: the analyst role reads the public views and nothing else.

`barometer_analyst` is a group role without login: a person's own login role is granted it
(docs/privacy.md). It can read exactly the views in `public`; the internal schema
`barometer_core` stays closed to everyone but the loader, which owns it. Identifiers are
whitelisted with `safe_identifier`; the one value (a role name in a lookup) is a bound parameter.
"""

from __future__ import annotations

from barometer.warehouse.schema import CORE_SCHEMA, PUBLIC_VIEWS, safe_identifier
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

ANALYST_ROLE = "barometer_analyst"
PUBLIC_SCHEMA = "public"
# SQLSTATEs of a CREATE ROLE that lost a race: 'role already exists', or the unique index on
# role names when the other transaction committed while this one waited for it.
ROLE_EXISTS = {"42710", "23505"}
INSUFFICIENT_PRIVILEGE = "42501"


def ensure_analyst_role(connection: Connection) -> None:
    """Create the analyst role where missing and grant it the public views (idempotent).

    Runs inside the initialising transaction, as the loader. The default privileges let views
    the loader adds to `public` later be read at once; they would do the same for a table, so
    `public` holds views only (internal tables belong in `barometer_core`; tests/integration/test_roles.py
    checks that the analyst can read exactly the public views).
    """
    role = safe_identifier(ANALYST_ROLE)
    public, core = safe_identifier(PUBLIC_SCHEMA), safe_identifier(CORE_SCHEMA)
    create_role(connection, role)
    statements = [
        f"REVOKE ALL ON SCHEMA {core} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {public} TO {role}",
        *(f"GRANT SELECT ON {public}.{safe_identifier(view)} TO {role}" for view in PUBLIC_VIEWS),
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {public} GRANT SELECT ON TABLES TO {role}",
    ]
    for statement in statements:
        connection.execute(text(statement))


def create_role(connection: Connection, role: str) -> None:
    """CREATE ROLE … NOLOGIN unless the role exists. Roles are shared by every database on the
    server, so two databases initialised at once may both find it missing: the loser's CREATE
    fails in a savepoint and is ignored, leaving the surrounding transaction intact."""
    role = safe_identifier(role)
    if connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first():
        return
    try:
        with connection.begin_nested():
            connection.execute(text(f"CREATE ROLE {role} NOLOGIN"))
    except DBAPIError as error:
        state = getattr(error.orig, "sqlstate", None)
        if state == INSUFFICIENT_PRIVILEGE:
            raise PermissionError(
                f"The warehouse user may not create the role {role}. Have a database administrator run "
                f"`CREATE ROLE {role} NOLOGIN;` once (or grant the user CREATEROLE), then refresh again; "
                "see docs/privacy.md."
            ) from None
        if state not in ROLE_EXISTS:
            raise
