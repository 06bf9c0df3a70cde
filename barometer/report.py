"""The barometer as readers see it: one municipality's edition as a single, self-contained Danish
HTML page; where the warehouse holds several municipalities, each indicator also shows its place
among them (`barometer_comparison`).

Built only from the public views (through `barometer.export.read_tables`), so an analyst with
read-only access can make it. This module reads the views and shapes each indicator's entry for
the template; `barometer.charts` draws the charts (matplotlib's SVG), `barometer.maps` the district
maps (inline SVG of the municipality's GeoJSON simplified with shapely), `barometer.formatting`
writes numbers and dates in Danish (Babel, CLDR's da_DK) and `barometer.labels` names the codes.
The page loads nothing, runs no script, prints as it looks, and the same warehouse always gives
the same bytes. Only `barometer report` imports this module (the CLI imports it inside the
command), so refreshes never pay for matplotlib's or shapely's import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy import MetaData, Table, inspect, select

from barometer.charts import GROUP_COLOURS, comparison_chart, history_chart
from barometer.config import edition_end, load_districts, source_config
from barometer.config.districts import has_districts
from barometer.config.municipalities import ALL_DENMARK_NAME, municipality
from barometer.export import EditionTables, WarehouseReadError, _read, read_tables
from barometer.formatting import danish_date, danish_list, danish_number, decimals_of, missing, number_word
from barometer.labels import (
    DELIVERY_STATUS_LABELS,
    DIRECTION_LABELS,
    FREQUENCY_LABELS,
    STATUS_LABELS,
    UNIT_LABELS,
    source_label,
)
from barometer.maps import indicator_map, map_defs, shown_group
from barometer.warehouse.database import connect

# The council's name where it is not '<name> Kommune'.
COUNCIL_NAMES = {"101": "Københavns Kommune", "400": "Bornholms Regionskommune"}


def build_report(warehouse_url: str, edition: str, out: Path, municipality_code: str) -> Path:
    """Write the municipality's report of the edition to `out` (HTML); returns the path."""
    tables = read_tables(warehouse_url, edition)
    held = held_municipalities(tables)
    if municipality_code not in held:
        raise WarehouseReadError(_missing_municipality(municipality_code, held, edition))
    comparison = read_comparison(warehouse_url, edition) if len(held) > 1 else None
    html = render(tables, municipality_code, comparison)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def held_municipalities(tables: EditionTables) -> dict[str, str]:
    """code -> name of the municipalities the edition holds, in code order."""
    cities = tables.edition[tables.edition["area_level"] == "municipality"]
    return dict(sorted(zip(cities["municipality_code"], cities["municipality_name"], strict=True)))


def _missing_municipality(code: str, held: dict[str, str], edition: str) -> str:
    holds = ", ".join(f"{c} {name}" for c, name in held.items())
    return (
        f"{municipality(code).name} ({code}) is not in the warehouse's edition {edition} (it holds {holds}). "
        f"Refresh it first (barometer refresh --edition {edition} --municipality {code}), or give one of those."
    )


def read_comparison(warehouse_url: str, edition: str) -> pd.DataFrame:
    """The edition's `barometer_comparison` rows: every municipality's value, national value and rank."""
    engine = connect(warehouse_url)
    try:
        with engine.connect() as connection:
            if "barometer_comparison" not in inspect(connection).get_view_names():
                raise WarehouseReadError(
                    "The warehouse holds several municipalities but lacks the view barometer_comparison: "
                    "run `barometer refresh` against it first (it creates and upgrades the views)."
                )
            view = Table("barometer_comparison", MetaData(), autoload_with=connection)
            query = select(view).where(view.c.edition_code == edition)
            rows = _read(connection, query.order_by("indicator_code", "group_code", "municipality_code"))
    finally:
        engine.dispose()
    return rows.astype({"rank": "Int64", "ranked": "Int64"})  # SQLite's views leave their type open


@dataclass(frozen=True)
class Page:
    """The rows one municipality's page is drawn from."""

    municipality_code: str
    until: date  # the edition's end
    city: pd.DataFrame  # its city-wide edition entries, status_code added
    history: pd.DataFrame  # its city-wide headline observations up to the edition's end
    districts: pd.DataFrame | None  # its district entries; None where it has no districts
    comparison: pd.DataFrame | None  # every municipality's comparison rows; None for a lone one


def render(tables: EditionTables, municipality_code: str, comparison: pd.DataFrame | None = None) -> str:
    """The municipality's page; with `comparison` (several municipalities) its place among them."""
    entries = tables.edition[tables.edition["municipality_code"] == municipality_code]
    entries = entries.assign(status_code=lambda e: e.apply(_status_code, axis=1))
    city = entries[entries["area_code"] == municipality_code]
    mapped = has_districts(municipality_code)
    page = Page(
        municipality_code=municipality_code,
        until=edition_end(tables.edition_code),
        city=city,
        history=tables.observations[
            (tables.observations["measure"] == "value") & (tables.observations["area_code"] == municipality_code)
        ],
        districts=entries[entries["area_level"] == "district"] if mapped else None,
        comparison=None if comparison is None else _with_group_names(comparison, tables.edition),
    )
    indicators = [_indicator(row, page) for row in tables.catalogue.itertuples()]
    name = municipality(municipality_code).name
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            edition=tables.edition_code,
            edition_end=page.until,
            municipality_name=name,
            national_name=ALL_DENMARK_NAME,
            council=COUNCIL_NAMES.get(municipality_code, f"{name} Kommune"),
            district_count=number_word(len(load_districts(municipality_code).names)),
            compared_count=None if comparison is None else comparison["municipality_code"].nunique(),
            has_targets=city["target_value"].notna().any(),
            development=danish_list(
                ["Udvikling", *(["bydele"] if mapped else []), *(["kommunerne"] if comparison is not None else [])]
            ),
            goals=_goals(tables.catalogue, indicators),
            indicators=indicators,
            status_counts=city["status_code"].value_counts().to_dict(),
            status_labels=STATUS_LABELS,
            min_persons=source_config("disclosure")["min_persons"],
            survey_codes=sorted(set(city.loc[city["ci_low"].notna(), "indicator_code"])),
            runs=sorted(set(entries["run_id"])),
            deliveries=tables.deliveries[tables.deliveries["municipality_code"] == municipality_code],
            delivery_status_labels=DELIVERY_STATUS_LABELS,
            map_defs=Markup(map_defs(municipality_code) if mapped else ""),
        )
    )


def _with_group_names(comparison: pd.DataFrame, edition: pd.DataFrame) -> pd.DataFrame:
    names = edition[["group_code", "group_name_da"]].drop_duplicates("group_code")
    return comparison.merge(names, on="group_code", how="left")


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("barometer", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(number=danish_number, date=danish_date, source_label=source_label)
    environment.globals.update(missing=missing, decimals_of=decimals_of)
    return environment


def _status_code(entry) -> str:
    """The edition's status, with the two reasons it can be empty told apart."""
    if not missing(entry["status"]):
        return entry["status"]
    return "suppressed" if entry["obs_status"] == "suppressed" else "no_comparison"


def _goals(catalogue: pd.DataFrame, indicators: list[dict]) -> list[dict]:
    goals = catalogue[["goal", "goal_name_da"]].drop_duplicates().sort_values("goal")
    return [
        {
            "number": goal.goal,
            "name": goal.goal_name_da,
            "indicators": [i for i in indicators if i["goal"] == goal.goal],
        }
        for goal in goals.itertuples()
    ]


def _indicator(row, page: Page) -> dict:
    """Everything the page shows about one indicator."""
    code = row.indicator_code
    entries = page.city[page.city["indicator_code"] == code]
    targeted = entries[entries["target_value"].notna()]
    target = targeted.iloc[0] if not targeted.empty else None
    sources = [s.strip() for s in row.source.split(",") if s.strip() != "none"]
    indicator = {
        "code": code,
        "goal": row.goal,
        "name": row.name_da,
        "unit": row.unit,
        "unit_label": UNIT_LABELS.get(row.unit, row.unit),
        "direction": DIRECTION_LABELS.get(row.direction, ""),
        "frequency": FREQUENCY_LABELS.get(row.frequency, row.frequency),
        "method": row.method,
        "sources": [source_label(s) for s in sources],
        "measured": bool(row.measured),
        "entries": entries.to_dict("records"),
        "target": target,
        "chart": None,
        "legend": [],
        "map": None,
        "comparison": None,
    }
    if page.districts is not None:
        rows = page.districts[page.districts["indicator_code"] == code]
        indicator["map"] = indicator_map(rows, row.unit, page.municipality_code)
    if page.comparison is not None:
        rows = page.comparison[page.comparison["indicator_code"] == code]
        indicator["comparison"] = _comparison(rows, page.municipality_code, row.unit)
    series = page.history[page.history["indicator_code"] == code]
    if not series.empty:
        indicator["chart"] = history_chart(series, target, page.until, row.unit, chart_id=f"chart-{code}")
        indicator["legend"] = [
            (GROUP_COLOURS.get(group, "#000"), name)
            for group, name in series[["group_code", "group_name_da"]].drop_duplicates().itertuples(index=False)
        ]
    return indicator


def _comparison(rows: pd.DataFrame, municipality_code: str, unit: str) -> dict | None:
    """The municipality among all: per group its value beside the national value and its rank, and
    a chart of every municipality's value in the shown group (those ranked with it: the same
    reference date). None where the indicator is not measured there."""
    own = rows[(rows["municipality_code"] == municipality_code) & rows["reference_date"].notna()]
    if own.empty:
        return None
    group = shown_group(own["group_code"]) or own["group_code"].iloc[0]
    shown = own[own["group_code"] == group].iloc[0]
    peers = rows[
        (rows["group_code"] == group) & (rows["reference_date"] == shown["reference_date"]) & rows["value"].notna()
    ]
    chart_id = f"compare-{shown['indicator_code']}"
    return {
        "groups": own.to_dict("records"),
        "shown": shown,
        "colour": GROUP_COLOURS.get(group, "#000"),
        "chart": None if peers.empty else comparison_chart(peers, shown, unit, chart_id),
    }
