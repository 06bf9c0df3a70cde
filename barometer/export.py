"""The barometer as tidy files for analysts: an edition and every observation up to its end, with
names and units beside the codes, as CSV, an Excel workbook or Parquet.

Everything is read from the public views, so read-only access is enough, and the same tables feed
the HTML report. Column meanings come from config/columns.yaml, package data that
docs/warehouse.md is checked against (tests/integration/test_warehouse_docs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd
import yaml
from sqlalchemy import Boolean, Engine, Float, Integer, MetaData, Table, inspect, select
from sqlalchemy.engine import URL, make_url

from barometer.config import edition_end
from barometer.config.catalogue import CONFIG_DIR
from barometer.warehouse.database import connect

COLUMNS = CONFIG_DIR / "columns.yaml"
VIEWS = ["barometer_edition", "barometer_observation", "barometer_delivery", "indicator_catalogue"]
# Names and units put right after the code they describe.
NAMES_OF = {
    "goal": ["goal_name_da", "goal_name_en"],
    "indicator_code": ["indicator_name_da", "indicator_name_en", "unit"],
    "group_code": ["group_name_da", "group_name_en"],
    "area_code": ["area_name", "area_level"],
}
# Where each exported table's columns are documented, first match wins.
DOCUMENTED_IN = {
    "edition": ["barometer_edition", "indicator_catalogue"],
    "observations": ["barometer_observation", "barometer_edition"],
}


class WarehouseReadError(Exception):
    """The warehouse cannot give what was asked; the message says what to do."""


@dataclass(frozen=True)
class EditionTables:
    """One edition as the public views show it."""

    edition_code: str
    edition: pd.DataFrame  # barometer_edition rows of the edition, goal names added
    observations: pd.DataFrame  # barometer_observation up to the edition's end, indicator names added
    catalogue: pd.DataFrame  # indicator_catalogue
    deliveries: pd.DataFrame  # barometer_delivery rows the observations were computed from

    def tidy(self) -> dict[str, pd.DataFrame]:
        """The exported tables."""
        return {"edition": self.edition, "observations": self.observations}


def read_tables(warehouse_url: str, edition: str) -> EditionTables:
    """The edition's tables from the public views; a clear error when they cannot be had."""
    try:
        end = edition_end(edition)
    except ValueError as error:
        raise WarehouseReadError(f"{error}. Give the edition as YEAR-S1 or YEAR-S2, e.g. 2012-S2.") from None
    engine = _open(warehouse_url)
    try:
        with engine.connect() as connection:
            views = {name: Table(name, MetaData(), autoload_with=connection) for name in VIEWS}
            catalogue = _read(connection, select(views["indicator_catalogue"]).order_by("indicator_code"))
            entries = views["barometer_edition"]
            rows = _read(
                connection,
                select(entries)
                .where(entries.c.edition_code == edition)
                .order_by("indicator_code", "group_code", "area_code"),
            )
            if rows.empty:
                raise WarehouseReadError(_missing_edition(connection, entries, edition, warehouse_url))
            observed = views["barometer_observation"]
            observations = _read(
                connection,
                select(observed)
                .where(observed.c.reference_date <= end)
                .order_by("indicator_code", "measure", "group_code", "area_code", "reference_date"),
            )
            deliveries = _read(connection, select(views["barometer_delivery"]).order_by("source", "reference_date"))
    finally:
        engine.dispose()
    names = catalogue.rename(columns={"name_da": "indicator_name_da", "name_en": "indicator_name_en"})
    goals = names[["goal", "goal_name_da", "goal_name_en"]].drop_duplicates()
    indicators = names[["indicator_code", "indicator_name_da", "indicator_name_en", "unit"]]
    return EditionTables(
        edition_code=edition,
        edition=_names_beside_codes(rows.merge(goals, on="goal", how="left")),
        observations=_names_beside_codes(observations.merge(indicators, on="indicator_code", how="left")),
        catalogue=catalogue,
        deliveries=deliveries[deliveries["delivery_id"].isin(observations["delivery_id"])].reset_index(drop=True),
    )


def _open(warehouse_url: str) -> Engine:
    """An engine on a warehouse that has the public views (never creating an empty SQLite file)."""
    url = make_url(warehouse_url)
    if url.get_backend_name() == "sqlite" and not sqlite_file(url).is_file():
        raise WarehouseReadError(
            f"There is no SQLite warehouse at {str(sqlite_file(url))!r}. Give the right "
            "--warehouse URL, or run `barometer refresh` to create it."
        )
    engine = connect(warehouse_url)
    try:
        missing = set(VIEWS) - set(inspect(engine).get_view_names())
    except Exception as error:
        engine.dispose()
        raise WarehouseReadError(
            f"Cannot read the warehouse at {url.render_as_string(hide_password=True)}: "
            f"{error}. Check the --warehouse URL and your access."
        ) from None
    if missing:
        engine.dispose()
        raise WarehouseReadError(
            f"The warehouse lacks the public views {sorted(missing)}: run "
            "`barometer refresh` against it first (it creates and upgrades them)."
        )
    return engine


def sqlite_file(url: URL) -> Path:
    """The file an SQLite URL opens: its database, or the path of a `file:` URI when the URL says
    `uri=true` (SQLAlchemy's way to pass `mode=ro`, e.g. sqlite:///file:/data/wh.sqlite?mode=ro&uri=true)."""
    database = url.database or ""
    if url.query.get("uri") in ("true", "1") and database.startswith("file:"):
        return Path(unquote(urlsplit(database).path))
    return Path(database)


def _missing_edition(connection, entries: Table, edition: str, warehouse_url: str) -> str:
    present = connection.execute(select(entries.c.edition_code).distinct().order_by("edition_code")).scalars().all()
    return (
        f"Edition {edition} is not in the warehouse (it has {', '.join(present) or 'no editions'}). "
        f"Refresh it first: barometer refresh --edition {edition} --warehouse {warehouse_url}"
    )


def _read(connection, query) -> pd.DataFrame:
    """Rows with the view's types, the same on SQLite and PostgreSQL: dates as dates, nullable
    integers and booleans, floats with NaN for NULL."""
    result = connection.execute(query)
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    for column in query.selected_columns:
        if isinstance(column.type, Boolean):
            frame[column.name] = frame[column.name].astype("boolean")
        elif isinstance(column.type, Integer):
            frame[column.name] = frame[column.name].astype("Int64")
        elif isinstance(column.type, Float):
            frame[column.name] = frame[column.name].astype("float64")
    return frame


def _names_beside_codes(frame: pd.DataFrame) -> pd.DataFrame:
    named = {name for names in NAMES_OF.values() for name in names}
    order = []
    for column in frame.columns:
        if column not in named:
            order += [column] + [name for name in NAMES_OF.get(column, []) if name in frame.columns]
    return frame[order]


@cache
def column_meanings() -> dict[str, dict[str, str]]:
    """view -> column -> meaning, from config/columns.yaml."""
    return yaml.safe_load(COLUMNS.read_text(encoding="utf-8"))


def column_descriptions(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """table, column, meaning for every exported column."""
    documented = column_meanings()
    rows = []
    for table, frame in tables.items():
        for column in frame.columns:
            meanings = [documented[view][column] for view in DOCUMENTED_IN[table] if column in documented[view]]
            if not meanings:
                raise ValueError(
                    f"Column {column} of the {table} export is not described in {COLUMNS.name}: "
                    "add it there and to docs/warehouse.md."
                )
            rows.append({"table": table, "column": column, "meaning": meanings[0]})
    return pd.DataFrame(rows)


def _write_csv(tables: dict[str, pd.DataFrame], stem: Path) -> list[Path]:
    paths = []
    for name, frame in tables.items():
        path = stem.with_name(f"{stem.name}_{name}.csv")
        frame.to_csv(path, index=False, encoding="utf-8")
        paths.append(path)
    return paths


def _write_xlsx(tables: dict[str, pd.DataFrame], stem: Path) -> list[Path]:
    """One sheet per table, header frozen and filterable, and a sheet saying what each column means."""
    path = stem.with_suffix(".xlsx")
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in {**tables, "columns": column_descriptions(tables)}.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = sheet.dimensions
    return [path]


def _write_parquet(tables: dict[str, pd.DataFrame], stem: Path) -> list[Path]:
    """One file per table; each column's meaning travels in its field metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    meanings = column_descriptions(tables)
    paths = []
    for name, frame in tables.items():
        table = pa.Table.from_pandas(frame, preserve_index=False)
        meaning = meanings[meanings["table"] == name].set_index("column")["meaning"]
        schema = pa.schema(
            [field.with_metadata({"description": meaning[field.name]}) for field in table.schema],
            metadata=table.schema.metadata,
        )
        path = stem.with_name(f"{stem.name}_{name}.parquet")
        pq.write_table(table.cast(schema), path)
        paths.append(path)
    return paths


WRITERS = {"csv": _write_csv, "xlsx": _write_xlsx, "parquet": _write_parquet}


def export_edition(warehouse_url: str, edition: str, file_format: str, out_dir: Path) -> list[Path]:
    """Write the edition's tidy tables into `out_dir` as barometer_<edition>…; returns the files."""
    tables = read_tables(warehouse_url, edition).tidy()
    out_dir.mkdir(parents=True, exist_ok=True)
    return WRITERS[file_format](tables, out_dir / f"barometer_{edition}")
