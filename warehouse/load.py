"""Loading one refresh into the warehouse in a single transaction.

Re-running a refresh on the same inputs must leave the warehouse identical, so rows whose values
did not change keep the run id that first produced them, and dimension rows are rewritten with
the same content. A failure anywhere rolls the whole load back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
from barometer.config import Catalogue, Districts, period_code
from barometer.transforms.common import KEY
from barometer.warehouse import schema
from barometer.warehouse.database import internal_schema, warehouse_exists
from sqlalchemy import Connection, Date, Engine, Float, delete, insert, inspect, select, text

VALUE_COLUMNS = ["value", "numerator", "denominator", "n", "ci_low", "ci_high"]
DECIMALS = 10  # stored precision: keeps re-runs bit-identical across float noise


@dataclass
class LoadRequest:
    """Everything a refresh publishes."""

    run_id: str
    edition: str
    edition_end: date
    started_at: datetime
    status: str
    summary: str
    catalogue: Catalogue
    districts: Districts
    deliveries: list[dict]
    # OBS_COLUMNS + obs_status + delivery_id. Each (indicator, reference date) present replaces
    # what the warehouse holds for it; everything else (sources that failed) is kept.
    observations: pd.DataFrame
    # source -> (checksum of its inputs, its outcome as JSON) for each source recomputed and loaded
    source_inputs: dict[str, tuple[str, str]] = field(default_factory=dict)


def load(engine: Engine, request: LoadRequest, edition_entries) -> None:
    """Write a refresh; `edition_entries(observations)` computes the edition from the stored
    observations (after this load's changes) so sources that failed keep their old values."""
    with engine.begin() as connection:
        _write_dimensions(connection, request.catalogue, request.districts)
        _write_deliveries(connection, request.deliveries, request.run_id)
        _write_observations(connection, request)
        stored = read_observations(connection)
        entries = edition_entries(stored)
        _write_edition(connection, request.edition, entries, request.run_id)
        _write_source_inputs(connection, request.source_inputs, request.run_id)
        connection.execute(
            insert(schema.run).values(
                run_id=request.run_id,
                edition_code=request.edition,
                started_at=request.started_at,
                finished_at=datetime.now(request.started_at.tzinfo),
                status=request.status,
                summary=request.summary,
            )
        )


def _replace_all(connection: Connection, table, rows: list[dict]) -> None:
    connection.execute(delete(table))
    if rows:
        connection.execute(insert(table), rows)


def _write_dimensions(connection: Connection, catalogue: Catalogue, districts: Districts) -> None:
    _replace_all(
        connection,
        schema.goal,
        [
            {"goal": int(number), **{k: g[k] for k in ("name_da", "name_en", "policy_area")}}
            for number, g in catalogue.goals.items()
        ],
    )
    _replace_all(
        connection, schema.indicator, [_indicator_row(code, ind) for code, ind in catalogue.indicators.items()]
    )
    _replace_all(
        connection,
        schema.population_group,
        [
            {"group_code": code, "name_da": g["name_da"], "name_en": g["name_en"]}
            for code, g in catalogue.groups.items()
        ],
    )
    city = {"area_code": districts.municipality_code, "name": "København", "level": "municipality"}
    _replace_all(
        connection,
        schema.area,
        [city]
        + [
            {"area_code": districts.area_code(number), "name": name, "level": "district"}
            for number, name in sorted(districts.names.items())
        ],
    )


def _indicator_row(code: str, ind: dict) -> dict:
    target = ind.get("target") or {}
    return {
        "indicator_code": code,
        "goal": ind["goal"],
        "name_da": ind["name_da"],
        "name_en": ind["name_en"],
        "unit": ind["unit"],
        "direction": ind["direction"],
        "source": ind["source"],
        "frequency": ind["frequency"],
        "reference_date": ind.get("reference_date"),
        "method": ind.get("method"),
        "target_value": target.get("value"),
        "target_year": target.get("year"),
        "target_group": target.get("group"),
        "measured": bool(ind.get("measured", True)),
    }


UPDATED_DELIVERY_COLUMNS = ("status", "message", "rows", "key_version")


def _write_deliveries(connection: Connection, deliveries: list[dict], run_id: str) -> None:
    """New deliveries are added; a delivery seen before keeps its first run and takes its new
    status (and, after a key rotation, the key version it was last read with)."""
    table = schema.delivery
    known = {row.delivery_id: row for row in connection.execute(select(table))}
    for entry in deliveries:
        old = known.get(entry["delivery_id"])
        changed = {c: entry[c] for c in UPDATED_DELIVERY_COLUMNS}
        if old is None:
            connection.execute(insert(table).values(**entry, run_id=run_id))
        elif tuple(getattr(old, c) for c in UPDATED_DELIVERY_COLUMNS) != tuple(changed.values()):
            connection.execute(table.update().where(table.c.delivery_id == entry["delivery_id"]).values(**changed))


def _read(connection: Connection, table, *where) -> pd.DataFrame:
    """A table's rows as a frame, dates as dates and numbers as floats, as transforms make them."""
    query = select(table).where(*where) if where else select(table)
    frame = pd.DataFrame(connection.execute(query).mappings().all(), columns=[c.name for c in table.columns])
    for column in table.columns:
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


def read_observations(connection: Connection) -> pd.DataFrame:
    return _read(connection, schema.observation)


def _carry_run_ids(new: pd.DataFrame, old: pd.DataFrame, keys: list[str], run_id: str) -> pd.Series:
    """The old row's run id where a row is unchanged, this run's id where it is new or changed."""
    compared = [c for c in new.columns if c not in keys and c != "run_id"]
    merged = new[keys + compared].merge(old[keys + compared + ["run_id"]], on=keys, how="left", suffixes=("", "_old"))
    same = merged["run_id"].notna().to_numpy().copy()
    for column in compared:
        a, b = merged[column], merged[f"{column}_old"]
        equal = (a == b).astype(object).where(lambda s: s.notna(), False).astype(bool)
        same &= (equal | (a.isna() & b.isna())).to_numpy()
    return pd.Series(np.where(same, merged["run_id"], run_id), index=new.index)


def _replace_rows(connection: Connection, table, new: pd.DataFrame, keys: list[str], run_id: str, *where) -> None:
    """Rewrite the rows selected by `where` with `new`, keeping run ids of unchanged rows."""
    new = new.copy()
    floats = [c.name for c in table.columns if isinstance(c.type, Float)]
    new[floats] = new[floats].astype("float64").round(DECIMALS)
    new["run_id"] = _carry_run_ids(new, _read(connection, table, *where), keys, run_id)
    connection.execute(delete(table).where(*where))
    if not new.empty:
        connection.execute(insert(table), _records(new[[c.name for c in table.columns]]))


def _write_observations(connection: Connection, request: LoadRequest) -> None:
    """Replace, per indicator, the reference dates this refresh recomputed."""
    table = schema.observation
    if request.observations.empty:  # every source failed, or none changed: nothing to replace
        return
    new = request.observations[request.observations["reference_date"] <= request.edition_end].copy()
    if new["obs_status"].isna().any():
        raise ValueError("observations reach the load without disclosure control (obs_status)")
    new["period_code"] = new["reference_date"].map(period_code)
    columns = [c.name for c in table.columns if c.name != "run_id"]
    for code, rows in new.groupby("indicator_code"):
        dates = sorted(rows["reference_date"].unique())
        _replace_rows(
            connection,
            table,
            rows[columns],
            KEY,
            request.run_id,
            table.c.indicator_code == code,
            table.c.reference_date.in_(dates),
        )


def _write_edition(connection: Connection, edition: str, entries: pd.DataFrame, run_id: str) -> None:
    table = schema.edition_entry
    entries = entries.assign(edition_code=edition)
    _replace_rows(
        connection,
        table,
        entries[[c.name for c in table.columns if c.name != "run_id"]],
        ["edition_code", "indicator_code", "group_code", "area_code"],
        run_id,
        table.c.edition_code == edition,
    )


def _write_source_inputs(connection: Connection, inputs: dict[str, tuple[str, str]], run_id: str) -> None:
    """Each recomputed source's checksum replaces its last; an unchanged one keeps its run id."""
    table = schema.source_input
    known = {row.source: row for row in connection.execute(select(table))}
    for source, (fingerprint, outcome) in inputs.items():
        old = known.get(source)
        if old is not None and (old.fingerprint, old.outcome) == (fingerprint, outcome):
            continue
        connection.execute(delete(table).where(table.c.source == source))
        connection.execute(insert(table).values(source=source, fingerprint=fingerprint, outcome=outcome, run_id=run_id))


def read_source_inputs(engine: Engine) -> dict[str, tuple[str, str]]:
    """source -> (checksum, outcome) of the last load; empty for a warehouse not made yet."""
    if not warehouse_exists(engine):
        return {}
    with engine.connect() as connection:
        if not inspect(connection).has_table("source_input", internal_schema(connection)):
            return {}
        return {row.source: (row.fingerprint, row.outcome) for row in connection.execute(select(schema.source_input))}


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows for a bulk insert, with NaN/NaT/NA as NULL."""
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")
