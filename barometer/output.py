"""Printing the barometer for people: an edition as a table on the terminal."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table

from barometer.warehouse.database import connect
from barometer.warehouse.read import read_edition

STATUS_STYLE = {
    "progress": "green",
    "regress": "red",
    "unchanged": "yellow",
    "first_measurement": "cyan",
    "not_measured": "dim",
}


def _number(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def print_edition(warehouse_url: str, edition: str, area_code: str, console: Console | None = None) -> None:
    """The city-wide barometer of one edition: latest value, previous value, change and status."""
    engine = connect(warehouse_url)
    try:
        entries = read_edition(engine, edition, area_code)
    finally:
        engine.dispose()
    table = Table(title=f"Inklusionsbarometer {edition} (area {area_code})")
    table.add_column("code")
    table.add_column("indicator", max_width=44, no_wrap=True, overflow="ellipsis")
    for column in ("group", "date", "value", "previous", "change", "status", "target", "on track"):
        table.add_column(
            column, no_wrap=True, justify="right" if column in ("value", "previous", "change", "target") else "left"
        )
    for row in entries.itertuples():
        status = row.status or ""
        table.add_row(
            row.indicator_code,
            row.indicator_name_en,
            row.group_code,
            "" if pd.isna(row.reference_date) else str(row.reference_date)[:10],
            _number(row.value) if row.obs_status != "suppressed" else "suppressed",
            _number(row.previous_value),
            _number(row.change),
            f"[{STATUS_STYLE.get(status, '')}]{status}[/]" if status in STATUS_STYLE else status,
            _number(row.target_value),
            "" if pd.isna(row.on_track) else ("yes" if row.on_track else "no"),
        )
    (console or Console(width=max(Console().width, 150))).print(table)


def print_place(warehouse_url: str, edition: str, municipality_code: str, console: Console | None = None) -> None:
    """A municipality's place among all in the warehouse: per indicator and headline group its
    value, the national value, and its rank (1 = best by the indicator's direction)."""
    from sqlalchemy import text

    engine = connect(warehouse_url)
    try:
        with engine.connect() as connection:
            rows = pd.read_sql(
                text(
                    "SELECT indicator_code, group_code, value, national_value, rank, ranked, municipality_name "
                    "FROM barometer_comparison WHERE edition_code = :edition AND municipality_code = :code "
                    "ORDER BY indicator_code, group_code"
                ),
                connection,
                params={"edition": edition, "code": municipality_code},
            )
    finally:
        engine.dispose()
    name = rows["municipality_name"].iloc[0] if not rows.empty else municipality_code
    table = Table(title=f"{name} among the municipalities, {edition}")
    for column in ("code", "group", "value", "all Denmark", "rank"):
        table.add_column(column, no_wrap=True, justify="left" if column in ("code", "group") else "right")
    for row in rows.itertuples():
        rank = "" if pd.isna(row.rank) else f"{int(row.rank)} of {int(row.ranked)}"
        table.add_row(row.indicator_code, row.group_code, _number(row.value), _number(row.national_value), rank)
    (console or Console(width=max(Console().width, 100))).print(table)
