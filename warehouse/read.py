"""Reading the warehouse back: stored rows as frames (as transforms make them), an edition as the
public view shows it, and the inputs each source was last computed from."""

from __future__ import annotations

import pandas as pd
from barometer.warehouse import schema
from barometer.warehouse.database import internal_schema, warehouse_exists
from sqlalchemy import Connection, Date, Engine, Float, inspect, select, text


def read_rows(connection: Connection, table, *where, columns: list[str] | None = None) -> pd.DataFrame:
    """A table's rows (or some columns of them) as a frame, dates as dates and numbers as
    floats, as transforms make them."""
    chosen = [c for c in table.columns if columns is None or c.name in columns]
    query = select(*chosen).where(*where) if where else select(*chosen)
    frame = pd.DataFrame(connection.execute(query).mappings().all(), columns=[c.name for c in chosen])
    for column in chosen:
        if isinstance(column.type, Date):
            frame[column.name] = pd.to_datetime(frame[column.name]).dt.date
        elif isinstance(column.type, Float):
            frame[column.name] = frame[column.name].astype("float64")
    return frame


def read_edition(engine: Engine, edition: str, area_code: str) -> pd.DataFrame:
    """One edition's entries for one area, as the public view shows them."""
    with engine.connect() as connection:
        return pd.read_sql(
            text(
                "SELECT * FROM barometer_edition WHERE edition_code = :edition "
                "AND area_code = :area ORDER BY indicator_code, group_code"
            ),
            connection,
            params={"edition": edition, "area": area_code},
        )


def read_observations(connection: Connection, municipality_codes: list[str]) -> pd.DataFrame:
    """The stored observations of some municipalities ('000': the national rows)."""
    table = schema.observation
    return read_rows(connection, table, table.c.municipality_code.in_(municipality_codes))


def read_source_inputs(engine: Engine, municipality_code: str) -> dict[str, tuple[str, str]]:
    """source -> (checksum, outcome) of a municipality's last load; empty for a warehouse not
    made yet."""
    if not warehouse_exists(engine):
        return {}
    with engine.connect() as connection:
        inspector, where = inspect(connection), internal_schema(connection)
        if not inspector.has_table("source_input", where):
            return {}
        if "municipality_code" not in {c["name"] for c in inspector.get_columns("source_input", where)}:
            return {}  # recorded before revision 0004, which the load upgrades to: recompute once
        table = schema.source_input
        rows = connection.execute(select(table).where(table.c.municipality_code == municipality_code))
        return {row.source: (row.fingerprint, row.outcome) for row in rows}
