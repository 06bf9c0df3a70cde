"""Printing the barometer for people: an edition as a table on the terminal."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table

from barometer.warehouse.database import connect
from barometer.warehouse.load import read_edition

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
