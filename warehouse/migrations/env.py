"""Alembic's entry point: runs the revisions on the connection that
`warehouse.database.alembic_config` hands over, inside the caller's transaction."""

from alembic import context
from barometer.warehouse.database import internal_schema
from barometer.warehouse.schema import metadata
from sqlalchemy import MetaData

if context.is_offline_mode():
    raise SystemExit(
        "The warehouse is migrated online only: run `barometer refresh`, or call "
        "warehouse.database.initialise(connect(URL))."
    )

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit(
        "No connection to migrate: build the configuration with warehouse.database.alembic_config(connection)."
    )
schema = internal_schema(connection)


def expected_tables() -> MetaData:
    """The tables the code expects, in this database's schema (`alembic check` compares them)."""
    if schema is not None:
        return metadata
    unprefixed = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(unprefixed, schema=None)  # type: ignore[arg-type]  # None: no schema (SQLAlchemy's stub omits it)
    return unprefixed


context.configure(
    connection=connection,
    target_metadata=expected_tables(),
    version_table_schema=schema,
    include_schemas=schema is not None,
    include_name=lambda name, kind, parent: kind != "schema" or name == schema,
)
with context.begin_transaction():
    context.run_migrations()
