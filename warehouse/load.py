"""Loading one refresh of a set of municipalities into the warehouse in a single transaction.

A load replaces only its municipalities' rows (observations per indicator and reference date,
edition entries, deliveries, recorded inputs, areas); every other municipality's rows are left
as they are. The national rows ('000') are recomputed from every municipality's stored
observations in the same transaction (transforms/national.py), so they follow each refresh.

Re-running a refresh on the same inputs must leave the warehouse identical, so rows whose values
did not change keep the run id that first produced them, and dimension rows are rewritten with
the same content. A failure anywhere rolls the whole load back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
from barometer.config import Catalogue, Districts, load_districts, period_code
from barometer.config.districts import municipality_of
from barometer.config.municipalities import ALL_DENMARK, municipality, name_of
from barometer.transforms.common import KEY
from barometer.transforms.national import national_shares, share_indicators
from barometer.warehouse import schema
from barometer.warehouse.database import internal_schema, warehouse_exists
from sqlalchemy import Connection, Date, Engine, Float, and_, delete, insert, inspect, or_, select, text

VALUE_COLUMNS = ["value", "numerator", "denominator", "n", "ci_low", "ci_high"]
DECIMALS = 10  # stored precision: keeps re-runs bit-identical across float noise


@dataclass
class LoadRequest:
    """Everything a refresh of a set of municipalities publishes.

    The set is `municipality_codes`; a refresh of one municipality may instead give its
    `districts` (as before municipalities were a dimension), which stands for that one. Where
    there is one municipality, deliveries without a `municipality_code` and source inputs keyed
    by source alone are its own.
    """

    run_id: str
    edition: str
    edition_end: date
    started_at: datetime
    status: str
    summary: str
    catalogue: Catalogue
    # barometer_delivery rows, each with municipality_code: a delivery serving several
    # municipalities (a StatBank table) is one row per municipality, '000' included where its
    # national cells are loaded.
    deliveries: list[dict]
    # OBS_COLUMNS + obs_status + delivery_id, of the set's areas and (StatBank's) '000'. Each
    # (municipality, indicator, reference date) present replaces what the warehouse holds for
    # it; everything else (sources that failed, other municipalities) is kept.
    observations: pd.DataFrame
    districts: Districts | None = None
    municipality_codes: list[str] = field(default_factory=list)
    # (municipality_code, source) -> (checksum of its inputs, its outcome as JSON) for each
    # source recomputed and loaded
    source_inputs: dict[str | tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.municipality_codes:
            if self.districts is None:
                raise ValueError(
                    "a load names its municipalities (municipality_codes) or its one municipality's districts"
                )
            self.municipality_codes = [self.districts.municipality_code]
        for code in self.municipality_codes:
            municipality(code)
        if self.districts is not None and self.municipality_codes != [self.districts.municipality_code]:
            raise ValueError("districts stand for a load of their own municipality only")

    def the_one_municipality(self) -> str:
        """The municipality of a one-municipality load: rows that name none are its."""
        if len(self.municipality_codes) != 1:
            raise ValueError(f"a load of {len(self.municipality_codes)} municipalities names each row's municipality")
        return self.municipality_codes[0]

    def delivery_rows(self) -> list[dict]:
        """The deliveries, each naming its municipality."""
        rows = [
            row if "municipality_code" in row else {**row, "municipality_code": self.the_one_municipality()}
            for row in self.deliveries
        ]
        _require_in(self, {row["municipality_code"] for row in rows}, "deliveries")
        return rows

    def keyed_source_inputs(self) -> dict[tuple[str, str], tuple[str, str]]:
        """The source inputs, each keyed by (municipality_code, source)."""
        keyed = {
            key if isinstance(key, tuple) else (self.the_one_municipality(), key): value
            for key, value in self.source_inputs.items()
        }
        _require_in(self, {code for code, _ in keyed}, "source inputs")
        return keyed


def _require_in(request: LoadRequest, codes: set[str], what: str) -> None:
    """Rows a load writes belong to its municipalities (or are national)."""
    outside = codes - set(request.municipality_codes) - {ALL_DENMARK}
    if outside:
        raise ValueError(f"{what} of municipalities {sorted(outside)} outside the load's {request.municipality_codes}")


def load(engine: Engine, request: LoadRequest, edition_entries) -> None:
    """Write a refresh; `edition_entries(observations)` computes the edition from the stored
    observations of the load's municipalities and the country (after this load's changes, the
    national rows recomputed) so sources that failed keep their old values."""
    rewritten = [*request.municipality_codes, ALL_DENMARK]
    with engine.begin() as connection:
        _write_dimensions(connection, request.catalogue, request.municipality_codes)
        _write_deliveries(connection, request.delivery_rows(), request.run_id)
        _write_observations(connection, request)
        _write_national(connection, request.catalogue, request.run_id)
        entries = edition_entries(read_observations(connection, rewritten))
        _write_edition(connection, request.edition, entries, request.run_id, rewritten)
        _write_source_inputs(connection, request.keyed_source_inputs(), request.run_id)
        connection.execute(
            insert(schema.run).values(
                run_id=request.run_id,
                edition_code=request.edition,
                started_at=request.started_at,
                finished_at=datetime.now(request.started_at.tzinfo),
                status=request.status,
                summary=request.summary,
                municipality_codes=",".join(request.municipality_codes),
            )
        )


def _replace_all(connection: Connection, table, rows: list[dict], *where) -> None:
    """Replace the rows `where` selects (all rows without it) with `rows`."""
    connection.execute(delete(table).where(*where) if where else delete(table))
    if rows:
        connection.execute(insert(table), rows)


def _write_dimensions(connection: Connection, catalogue: Catalogue, municipality_codes: list[str]) -> None:
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
    country = _area(ALL_DENMARK, ALL_DENMARK, name_of(ALL_DENMARK), "country", None)
    areas = [country] + [row for code in municipality_codes for row in _area_rows(load_districts(code))]
    _replace_all(
        connection, schema.area, areas, schema.area.c.municipality_code.in_([*municipality_codes, ALL_DENMARK])
    )


def _area(area_code: str, municipality_code: str, name: str, level: str, region: str | None) -> dict:
    return {
        "area_code": area_code,
        "name": name,
        "level": level,
        "municipality_code": municipality_code,
        "region": region,
    }


def _area_rows(districts: Districts) -> list[dict]:
    """A municipality's area and its districts' (none where it has no district map)."""
    home = municipality(districts.municipality_code)
    return [_area(home.code, home.code, home.name, "municipality", home.region)] + [
        _area(districts.area_code(number), home.code, name, "district", home.region)
        for number, name in sorted(districts.names.items())
    ]


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
    """New deliveries are added; a delivery seen before (for the same municipality) keeps its
    first run and takes its new status (and, after a key rotation, the key version it was last
    read with)."""
    table = schema.delivery
    codes = sorted({entry["municipality_code"] for entry in deliveries})
    rows = connection.execute(select(table).where(table.c.municipality_code.in_(codes)))
    known = {(row.municipality_code, row.delivery_id): row for row in rows}
    for entry in deliveries:
        key = (entry["municipality_code"], entry["delivery_id"])
        old = known.get(key)
        changed = {c: entry[c] for c in UPDATED_DELIVERY_COLUMNS}
        if old is None:
            connection.execute(insert(table).values(**entry, run_id=run_id))
        elif tuple(getattr(old, c) for c in UPDATED_DELIVERY_COLUMNS) != tuple(changed.values()):
            _update_delivery(connection, key, changed)
    _supersede_replaced(connection, known, deliveries)


def _update_delivery(connection: Connection, key: tuple[str, str], values: dict) -> None:
    table = schema.delivery
    where = (table.c.municipality_code == key[0], table.c.delivery_id == key[1])
    connection.execute(table.update().where(*where).values(**values))


def _supersede_replaced(connection: Connection, known: dict, deliveries: list[dict]) -> None:
    """A delivery recorded as in force that is gone from the landing zone while another of its
    source is now in force for its reference date (a file re-sent with other content, or under
    another name) was replaced: it is superseded, so one delivery is in force per date. One gone
    without a successor stays in force: its observations are kept."""
    in_force = {
        (e["municipality_code"], e["source"], e["reference_date"]): e for e in deliveries if e["status"] == "loaded"
    }
    seen = {(e["municipality_code"], e["delivery_id"]) for e in deliveries}
    for key, old in known.items():
        newer = in_force.get((old.municipality_code, old.source, old.reference_date))
        if old.status == "loaded" and key not in seen and newer is not None:
            same_name = newer["name"] == old.name
            message = "replaced by a later version of the same file" if same_name else f"replaced by {newer['name']}"
            _update_delivery(connection, key, {"status": "superseded", "message": message})


def _read(connection: Connection, table, *where, columns: list[str] | None = None) -> pd.DataFrame:
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


def read_observations(connection: Connection, municipality_codes: list[str] | None = None) -> pd.DataFrame:
    """The stored observations of some municipalities ('000': the national rows), or of all."""
    table = schema.observation
    if municipality_codes is None:
        return _read(connection, table)
    return _read(connection, table, table.c.municipality_code.in_(municipality_codes))


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


def _replace_rows(connection: Connection, table, new: pd.DataFrame, keys: list[str], run_id: str, scope, parts=None):
    """Rewrite the rows `scope` selects (or, when given, each of the `parts` of it) with `new`,
    keeping run ids of unchanged rows."""
    new = new.copy()
    floats = [c.name for c in table.columns if isinstance(c.type, Float)]
    new[floats] = new[floats].astype("float64").round(DECIMALS)
    new["run_id"] = _carry_run_ids(new, _read(connection, table, scope), keys, run_id)
    for where in parts or [scope]:
        connection.execute(delete(table).where(where))
    if not new.empty:
        connection.execute(insert(table), _records(new[[c.name for c in table.columns]]))


def _write_observations(connection: Connection, request: LoadRequest) -> None:
    """Replace, per municipality and indicator, the reference dates this refresh recomputed.
    National rows summed over municipalities are `_write_national`'s: never touched here."""
    table = schema.observation
    if request.observations.empty:  # every source failed, or none changed: nothing to replace
        return
    new = request.observations[request.observations["reference_date"] <= request.edition_end].copy()
    if new["obs_status"].isna().any():
        raise ValueError("observations reach the load without disclosure control (obs_status)")
    new["period_code"] = new["reference_date"].map(period_code)
    new["municipality_code"] = municipality_of(new["area_code"])
    new["municipalities_covered"] = None
    _require_in(request, set(new["municipality_code"]), "observations")
    own = table.c.municipalities_covered.is_(None)
    parts = [
        and_(
            table.c.municipality_code == code,
            own,
            or_(
                *(
                    and_(table.c.indicator_code == indicator, table.c.reference_date.in_(sorted(dates)))
                    for indicator, dates in rows.groupby("indicator_code")["reference_date"].unique().items()
                )
            ),
        )
        for code, rows in new.groupby("municipality_code")
    ]
    scope = and_(table.c.municipality_code.in_(sorted(set(new["municipality_code"]))), own)
    columns = [c.name for c in table.columns if c.name != "run_id"]
    _replace_rows(connection, table, new[columns], KEY, request.run_id, scope, parts)


def _write_national(connection: Connection, catalogue: Catalogue, run_id: str) -> None:
    """The national rows summed over municipalities, from every municipality's stored values."""
    table = schema.observation
    city_rows = _read(
        connection,
        table,
        table.c.area_code == table.c.municipality_code,
        table.c.municipality_code != ALL_DENMARK,
        table.c.indicator_code.in_(share_indicators(catalogue)),
        columns=KEY + VALUE_COLUMNS + ["obs_status"],
    )
    national = national_shares(city_rows, catalogue)
    national["period_code"] = national["reference_date"].map(period_code)
    national["municipality_code"] = ALL_DENMARK
    national["delivery_id"] = None
    columns = [c.name for c in table.columns if c.name != "run_id"]
    scope = and_(table.c.area_code == ALL_DENMARK, table.c.municipalities_covered.is_not(None))
    _replace_rows(connection, table, national[columns], KEY, run_id, scope)


def _write_edition(
    connection: Connection, edition: str, entries: pd.DataFrame, run_id: str, municipality_codes: list[str]
) -> None:
    """The edition's entries of the load's municipalities and the country replace theirs."""
    table = schema.edition_entry
    entries = entries.assign(edition_code=edition, municipality_code=municipality_of(entries["area_code"]))
    outside = set(entries["municipality_code"]) - set(municipality_codes)
    if outside:
        raise ValueError(f"edition entries of municipalities {sorted(outside)} the load did not read")
    _replace_rows(
        connection,
        table,
        entries[[c.name for c in table.columns if c.name != "run_id"]],
        ["edition_code", "indicator_code", "group_code", "area_code"],
        run_id,
        and_(table.c.edition_code == edition, table.c.municipality_code.in_(municipality_codes)),
    )


def _write_source_inputs(connection: Connection, inputs: dict[tuple[str, str], tuple[str, str]], run_id: str) -> None:
    """Each recomputed source's checksum replaces its last; an unchanged one keeps its run id."""
    table = schema.source_input
    known = {(row.municipality_code, row.source): row for row in connection.execute(select(table))}
    for (code, source), (fingerprint, outcome) in inputs.items():
        old = known.get((code, source))
        if old is not None and (old.fingerprint, old.outcome) == (fingerprint, outcome):
            continue
        connection.execute(delete(table).where(table.c.municipality_code == code, table.c.source == source))
        connection.execute(
            insert(table).values(
                municipality_code=code, source=source, fingerprint=fingerprint, outcome=outcome, run_id=run_id
            )
        )


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


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows for a bulk insert, with NaN/NaT/NA as NULL."""
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")
