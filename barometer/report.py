"""The barometer as readers see it: one municipality's edition as a single, self-contained Danish
HTML page; where the warehouse holds several municipalities, each indicator also shows its place
among them (`barometer_comparison`).

Built only from the public views (through `barometer.export.read_tables`), so an analyst with
read-only access can make it. Charts are matplotlib's SVG, district maps inline SVG of the
municipality's GeoJSON simplified with shapely, numbers and dates in Danish by Babel (CLDR's
da_DK): the page loads nothing, runs no script, prints as it looks, and the same warehouse always
gives the same bytes. Only `barometer report` imports this module (the CLI imports it inside the
command), so refreshes never pay for matplotlib's or shapely's import.
"""

from __future__ import annotations

import io
import json
import math
import xml.etree.ElementTree as ElementTree
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import shapely
from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.typing import RcKeyType
from shapely.affinity import affine_transform
from shapely.geometry import shape
from sqlalchemy import MetaData, Table, inspect, select

from barometer.config import edition_end, load_districts, source_config
from barometer.config.districts import district_map, has_districts
from barometer.config.municipalities import ALL_DENMARK_NAME, municipality
from barometer.export import EditionTables, WarehouseReadError, _read, read_tables
from barometer.warehouse.database import connect

STATUS_LABELS = {
    "progress": "Fremgang",
    "regress": "Tilbagegang",
    "unchanged": "Uændret",
    "first_measurement": "Første måling",
    "not_measured": "Ikke målt",
    "suppressed": "Diskretioneret",
    "no_comparison": "Ingen sammenligning",
}
UNIT_LABELS = {
    "percent": "procent",
    "percentage points": "procentpoint",
    "index points": "indekspoint",
    "count": "antal",
    "none": "",
}
DIRECTION_LABELS = {"higher": "Højere er bedre", "lower": "Lavere er bedre"}
FREQUENCY_LABELS = {"annual": "årligt", "half-yearly": "halvårligt"}
SOURCE_LABELS = {
    "employment": "Danmarks Statistik, Statistikbanken (tabel RAS201 til 2016, KAS201 fra 2017)",
    "grades": "Folkeskolens afgangsprøve (karakterer)",
    "youth_education": "Ungdomsuddannelsesstatus pr. 1. oktober",
    "school_enrolment": "Elevregisteret (folkeskoler)",
    "childcare": "Pladsanvisningen (dagtilbud, fritidshjem og klubber)",
    "survey": "Inklusionsundersøgelsen",
    "safety": "Tryghedsindekset",
    "workforce": "Kommunens HR-udtræk",
}
DELIVERY_STATUS_LABELS = {"loaded": "indlæst", "superseded": "erstattet", "rejected": "afvist"}
LOCALE = "da_DK"
# Reference groups blue, compared groups orange, everyone grey: the same colour means the same
# kind of group in every chart.
GROUP_COLOURS = {
    "all": "#4d4d4d",
    "danish": "#2166ac",
    "majority": "#2166ac",
    "monolingual": "#2166ac",
    "non_western": "#d6604d",
    "minority": "#d6604d",
    "bilingual": "#d6604d",
}
# The group a district map and the comparison chart show, the first present (the comparison:
# else the indicator's first group).
MAP_GROUPS = ["minority", "non_western", "all"]
MAP_COLOURS = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]  # ColorBrewer Blues
TARGET_COLOUR = "#b2182b"
OTHERS_COLOUR = "#b3b3b3"  # the other municipalities in a comparison chart
NATIONAL_COLOUR = "#4d4d4d"
NAMED_MUNICIPALITIES = 8  # a comparison chart names every municipality on its axis up to this many
# The council's name where it is not '<name> Kommune'.
COUNCIL_NAMES = {"101": "Københavns Kommune", "400": "Bornholms Regionskommune"}
NUMBER_WORDS = ["nul", "en", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti", "elleve", "tolv"]
CHART_WIDTH, CHART_HEIGHT = 600, 250  # SVG units: matplotlib writes 72 per inch
COMPARISON_WIDTH = 400  # the comparison's chart, narrower: it shares a row with another figure
PLOT = {"left": 52, "right": 20, "top": 14, "bottom": 28}  # margins around the plot, same units
CHART_STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text in a generic sans-serif: no font to embed or load
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 11,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "axes.edgecolor": "#8c8c8c",
    "axes.spines.left": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": "#e6e6e6",
    "axes.autolimit_mode": "round_numbers",
    "axes.ymargin": 0,  # the value axis ends on ticks
    "xtick.color": "#8c8c8c",
    "xtick.labelcolor": "#5f6368",
    "xtick.major.size": 4,
    "xtick.minor.size": 0,
    "ytick.labelcolor": "#5f6368",
    "ytick.major.size": 0,
    "ytick.major.pad": 6,
    "lines.scale_dashes": False,
}
SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}  # none: same bytes every time
SVG = "http://www.w3.org/2000/svg"  # XML namespaces (names, never fetched)
XLINK = "http://www.w3.org/1999/xlink"
MAP_WIDTH = 320  # pixels
MAP_TOLERANCE = 0.7  # pixels: coverage simplification, so neighbouring districts keep one border
MAP_LEGEND_HEIGHT = 58


# Danish formatting ------------------------------------------------------------------------------


def missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def danish_number(value, decimals: int = 1, signed: bool = False) -> str:
    """1234.56 -> '1.234,6', with a real minus sign (CLDR's Danish one is the hyphen), '–' for no
    value. Rounded as everywhere else in the barometer (Python's round, half to even on the float)
    before Babel formats it. A signed change keeps its sign when it rounds to zero ('−0,0'), so it
    agrees with its status."""
    if missing(value):
        return "–"
    rounded = round(float(value), decimals)
    negative = value < 0 if signed else rounded < 0
    sign = "−" if negative else "+" if signed and value > 0 else ""
    return sign + format_decimal(abs(rounded), format="#,##0." + "0" * decimals if decimals else "#,##0", locale=LOCALE)


def decimals_of(unit: str) -> int:
    return 0 if unit == "count" else 1


def danish_date(day) -> str:
    """'1. okt. 2012': CLDR's medium Danish date."""
    return "–" if missing(day) else format_date(day, format="medium", locale=LOCALE)


# The page ----------------------------------------------------------------------------------------


def build_report(warehouse_url: str, edition: str, out: Path, municipality_code: str = "101") -> Path:
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


def render(tables: EditionTables, municipality_code: str = "101", comparison: pd.DataFrame | None = None) -> str:
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
            district_count=_number_word(len(load_districts(municipality_code).names)),
            compared_count=None if comparison is None else comparison["municipality_code"].nunique(),
            has_targets=city["target_value"].notna().any(),
            development=_danish_list(
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
            source_labels=SOURCE_LABELS,
            delivery_status_labels=DELIVERY_STATUS_LABELS,
            map_defs=Markup(_map_defs(municipality_code) if mapped else ""),
        )
    )


def _number_word(number: int) -> str:
    """Small counts in words, as Danish prose writes them."""
    return NUMBER_WORDS[number] if number < len(NUMBER_WORDS) else str(number)


def _danish_list(words: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b og c'."""
    return " og ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else words[0]


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
    environment.filters.update(number=danish_number, date=danish_date)
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
        "sources": [SOURCE_LABELS.get(s, s) for s in sources],
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
        indicator["map"] = _district_map(rows, row.unit, page.municipality_code)
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


# Charts ----------------------------------------------------------------------------------------


def decimal_year(day: date) -> float:
    start = date(day.year, 1, 1)
    return day.year + (day - start).days / (date(day.year + 1, 1, 1) - start).days


def tick_decimals(ticks) -> int:
    """The fewest decimals that show every tick exactly, so all ticks of an axis share them."""
    return next(d for d in range(4) if all(abs(t - round(t, d)) < 1e-9 for t in ticks))


def history_chart(series: pd.DataFrame, target, until: date, unit: str, chart_id: str) -> Markup:
    """The indicator's values in the city by group over time; the target as a dotted line with
    its year, survey values with their 95 % intervals; suppressed values leave a gap. `chart_id`
    keeps the SVG's ids unique on the page."""
    first = min(decimal_year(day) for day in series["reference_date"])
    last = decimal_year(until) if target is None else max(decimal_year(until), target["target_year"] + 1.0)
    with _chart(unit, chart_id) as (figure, axes):
        tooltips: dict[str, str] = {}
        for group, rows in series.groupby("group_code", sort=False):
            tooltips |= _plot_group(
                axes, rows.sort_values("reference_date"), GROUP_COLOURS.get(group, "#000"), unit, chart_id
            )
        if target is not None:
            _plot_target(axes, target)
        _year_axis(axes, math.floor(first), math.ceil(last))
        _danish_value_ticks(axes)
        svg = _svg(figure)
    return Markup(_inline_svg(svg, tooltips, "Udvikling over tid"))


@contextmanager
def _chart(unit: str, chart_id: str, width: int = CHART_WIDTH):
    """A chart's figure and axes in the page's style; `chart_id` salts the SVG's ids."""
    with matplotlib.rc_context({**CHART_STYLE, "svg.hashsalt": chart_id}):
        figure = Figure(figsize=(width / 72, CHART_HEIGHT / 72))
        figure.subplots_adjust(
            left=PLOT["left"] / width,
            right=1 - PLOT["right"] / width,
            bottom=PLOT["bottom"] / CHART_HEIGHT,
            top=1 - PLOT["top"] / CHART_HEIGHT,
        )
        axes = figure.add_subplot()
        # Round ticks (steps of 1, 2, 2.5 or 5 times a power of ten), set before anything autoscales.
        axes.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10], integer=unit == "count"))
        yield figure, axes


def _svg(figure: Figure) -> str:
    """The figure as an SVG file (inside its chart's style: the fonts and ids depend on it)."""
    svg = io.StringIO()
    figure.savefig(svg, format="svg", metadata=SVG_METADATA)
    return svg.getvalue()


def _plot_group(axes, rows: pd.DataFrame, colour: str, unit: str, chart_id: str) -> dict[str, str]:
    """One group's line, broken where a value is suppressed (NaN), with a point (and interval) per
    value; returns each point's id and tooltip."""
    years = [decimal_year(day) for day in rows["reference_date"]]
    axes.plot(years, rows["value"], color=colour, linewidth=2.2)
    tooltips = {}
    for year, row in zip(years, rows.itertuples(), strict=True):
        if missing(row.value):
            continue
        label = f"{row.group_name_da}, {danish_date(row.reference_date)}: {danish_number(row.value, decimals_of(unit))}"
        if not missing(row.ci_low):
            axes.vlines(year, row.ci_low, row.ci_high, colors=colour, linewidth=1.4, alpha=0.7)
            label += f" (95 %-interval {danish_number(row.ci_low)}–{danish_number(row.ci_high)})"
        point = f"{chart_id}-{row.group_code}-{row.reference_date.isoformat()}"
        axes.plot([year], [row.value], "o", color=colour, markersize=6.4, markeredgewidth=0, gid=point)
        tooltips[point] = label
    return tooltips


def _plot_target(axes, target) -> None:
    value, year = target["target_value"], int(target["target_year"])
    label = f"Mål {year}: {danish_number(value, decimals_of(target['unit']))}"
    _reference_line(axes, value, label, TARGET_COLOUR, (2, 3), fontsize=11.5, fontweight="bold")


def _reference_line(axes, value: float, label: str, colour: str, dashes: tuple, **font) -> None:
    """A dashed line across the plot at `value`, labelled above its right end."""
    axes.axhline(value, color=colour, linewidth=1.6, dashes=dashes)
    axes.annotate(
        label,
        xy=(1, value),
        xycoords=("axes fraction", "data"),
        xytext=(-4, 5),
        textcoords="offset points",
        ha="right",
        color=colour,
        **font,
    )


def _year_axis(axes, first: int, last: int) -> None:
    """Tick marks between years, each year's label in the middle of its year."""
    axes.set_xlim(first, last)
    years = range(first, last, 1 if last - first <= 10 else 2)
    axes.set_xticks(list(years), labels=[])
    axes.set_xticks([year + 0.5 for year in years], labels=[str(year) for year in years], minor=True)


def _danish_value_ticks(axes) -> None:
    """The value ticks labelled in Danish, all with the same decimals."""
    decimals = tick_decimals(axes.get_yticks())
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: danish_number(value, decimals)))


def _inline_svg(svg: str, tooltips: dict[str, str], aria_label: str) -> str:
    """matplotlib's SVG file as markup inside the page: each point gets its `<title>` tooltip
    (matplotlib's own recipe: find the artist by its gid), the XML prologue and matplotlib's
    page-wide `*` stylesheet go (the page's CSS scopes the same rule to charts), and so do the
    group names (figure_1, axes_1 …) that every chart repeats, so ids stay unique."""
    ElementTree.register_namespace("", SVG)
    ElementTree.register_namespace("xlink", XLINK)
    root, ids = ElementTree.XMLID(svg)
    for point, label in tooltips.items():
        title = ElementTree.Element(f"{{{SVG}}}title")
        title.text = label
        ids[point].insert(0, title)
    for defs in root.findall(f"{{{SVG}}}defs"):
        if all(child.tag == f"{{{SVG}}}style" for child in defs):
            root.remove(defs)
    for group in root.iter(f"{{{SVG}}}g"):
        if group.get("id") not in tooltips:
            group.attrib.pop("id", None)
    for name in ("width", "height"):
        root.attrib.pop(name)
    root.attrib.update({"class": "chart", "role": "img", "aria-label": aria_label})
    return ElementTree.tostring(root, encoding="unicode")


# The comparison ------------------------------------------------------------------------------


def _comparison(rows: pd.DataFrame, municipality_code: str, unit: str) -> dict | None:
    """The municipality among all: per group its value beside the national value and its rank, and
    a chart of every municipality's value in the shown group (those ranked with it: the same
    reference date). None where the indicator is not measured there."""
    own = rows[(rows["municipality_code"] == municipality_code) & rows["reference_date"].notna()]
    if own.empty:
        return None
    group = _shown_group(own["group_code"]) or own["group_code"].iloc[0]
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


def _shown_group(groups: pd.Series) -> str | None:
    return next((group for group in MAP_GROUPS if group in set(groups)), None)


def comparison_chart(peers: pd.DataFrame, shown, unit: str, chart_id: str) -> Markup:
    """Every ranked municipality's value as a dot in rank order (best left), `shown`'s municipality
    marked in its group's colour and named, the national value a dashed line."""
    ordered = peers.sort_values(["rank", "municipality_name"])
    colour = GROUP_COLOURS.get(shown["group_code"], "#000")
    decimals = decimals_of(unit)
    with _chart(unit, chart_id, COMPARISON_WIDTH) as (figure, axes):
        tooltips = {}
        for position, row in enumerate(ordered.itertuples(), start=1):
            marked = row.municipality_code == shown["municipality_code"]
            point = f"{chart_id}-{row.municipality_code}"
            style = {"color": colour, "markersize": 9, "zorder": 3} if marked else {"color": OTHERS_COLOUR}
            axes.plot(
                [position], [row.value], "o", markeredgewidth=0, clip_on=False, gid=point, **({"markersize": 6} | style)
            )
            value = danish_number(row.value, decimals)
            tooltips[point] = f"{row.municipality_name}: {value} (nr. {row.rank} af {row.ranked})"
            if marked:
                _label_point(axes, position, row.value, f"{row.municipality_name}: {value}", len(ordered), colour)
        if not missing(shown["national_value"]):
            label = f"{ALL_DENMARK_NAME}: {danish_number(shown['national_value'], decimals)}"
            _reference_line(axes, shown["national_value"], label, NATIONAL_COLOUR, (6, 3), fontsize=11)
        _rank_axis(axes, ordered["municipality_name"].tolist())
        _danish_value_ticks(axes)
        svg = _svg(figure)
    return Markup(_inline_svg(svg, tooltips, "Kommunernes værdier"))


def _label_point(axes, position: int, value: float, label: str, count: int, colour: str) -> None:
    """A label beside a point, towards the middle of the plot so it stays inside."""
    left = position <= (count + 1) / 2
    axes.annotate(
        label,
        xy=(position, value),
        xytext=(9 if left else -9, 0),
        textcoords="offset points",
        ha="left" if left else "right",
        va="center_baseline",
        bbox={"boxstyle": "square,pad=0.15", "facecolor": "#ffffff", "edgecolor": "none"},  # over the lines
        color=colour,
        fontsize=11.5,
        fontweight="bold",
    )


def _rank_axis(axes, names: list[str]) -> None:
    """One place per municipality: named when few, else the first and last place."""
    count = len(names)
    axes.set_xlim(0.5, count + 0.5)
    if count <= NAMED_MUNICIPALITIES:
        axes.set_xticks(range(1, count + 1), labels=names)
    else:
        axes.set_xticks([1, count], labels=["nr. 1", f"nr. {count}"])


# District maps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictShapes:
    """A municipality's districts drawn once, for every map of the page."""

    paths: dict[str, str]  # area code -> SVG path data
    names: dict[str, str]  # area code -> district name
    height: float  # of the map, for MAP_WIDTH


@cache
def district_shapes(municipality_code: str) -> DistrictShapes:
    """The districts projected from the GeoJSON's longitude/latitude (EPSG:4326) to SVG pixels,
    longitudes shrunk by cos(latitude) so shapes keep their proportions at the city's latitude,
    then simplified as one coverage (shared borders stay shared: no gaps or overlaps)."""
    features = sorted(
        json.loads(district_map(municipality_code).read_text(encoding="utf-8"))["features"],
        key=lambda f: int(f["properties"]["bydel_nr"]),
    )
    geometries = [shape(feature["geometry"]) for feature in features]
    west, south, east, north = shapely.total_bounds(geometries)
    shrink = math.cos(math.radians((south + north) / 2))
    scale = MAP_WIDTH / ((east - west) * shrink)
    # x = (lon - west) · shrink · scale, y = (north - lat) · scale
    projection = [shrink * scale, 0, 0, -scale, -west * shrink * scale, north * scale]
    projected = [affine_transform(geometry, projection) for geometry in geometries]
    simplified = shapely.coverage_simplify(projected, MAP_TOLERANCE)
    districts = load_districts(municipality_code)
    paths, names = {}, {}
    for feature, geometry in zip(features, simplified, strict=True):
        number = int(feature["properties"]["bydel_nr"])
        code = districts.area_code(number)
        paths[code] = _path_data(geometry)
        names[code] = districts.names[number]
    return DistrictShapes(paths, names, (north - south) * scale)


def _path_data(geometry) -> str:
    """SVG path data of a (multi)polygon: every ring, holes included, closed with Z."""
    rings = [ring for polygon in shapely.get_parts(geometry) for ring in [polygon.exterior, *polygon.interiors]]
    return "".join("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in ring.coords[:-1]) + "Z" for ring in rings)


def _map_defs(city_code: str) -> str:
    """The district outlines, the hatching and the colour scale, defined once for every map."""
    outlines = "".join(f'<path id="area-{code}" d="{d}"/>' for code, d in district_shapes(city_code).paths.items())
    stops = "".join(
        f'<stop offset="{i / (len(MAP_COLOURS) - 1):.2f}" stop-color="{c}"/>' for i, c in enumerate(MAP_COLOURS)
    )
    return (
        '<svg class="defs" width="0" height="0" aria-hidden="true"><defs>'
        f'{outlines}<linearGradient id="map-scale">{stops}</linearGradient>'
        '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e6e6e6"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#7a7a7a" stroke-width="2"/></pattern></defs></svg>'
    )


@cache
def _map_colour_scale() -> LinearSegmentedColormap:
    """MAP_COLOURS as a continuous scale, as the legend's gradient draws it."""
    return LinearSegmentedColormap.from_list("barometer-blues", MAP_COLOURS)


def _district_map(rows: pd.DataFrame, unit: str, city_code: str) -> dict | None:
    """The edition's district values of the first MAP_GROUPS group present, as a map and a list."""
    group = _shown_group(rows["group_code"])
    if group is None:
        return None
    rows = rows[rows["group_code"] == group].set_index("area_code")
    shapes = district_shapes(city_code)
    values = rows["value"].dropna()
    low, high = (values.min(), values.max()) if not values.empty else (0.0, 0.0)
    areas = [_district(code, name, rows, low, high, decimals_of(unit)) for code, name in shapes.names.items()]
    outlines = "".join(
        f"<g><title>{escape(a['name'])}: {escape(a['text'])}</title>"
        f'<use href="#area-{a["code"]}" fill="{a["fill"]}"/></g>'
        for a in areas
    )
    legend = _map_legend(shapes.height + 14, low, high, decimals_of(unit), any(a["state"] == "missing" for a in areas))
    svg = (
        f'<svg class="map" viewBox="-2 -2 {MAP_WIDTH + 4} {shapes.height + MAP_LEGEND_HEIGHT:.0f}" role="img" '
        f'aria-label="Kort over bydelene"><g class="districts">{outlines}</g>{legend}</svg>'
    )
    first = rows.iloc[0]
    return {"svg": Markup(svg), "group": first["group_name_da"], "date": first["reference_date"], "areas": areas}


def _district(code: str, name: str, rows: pd.DataFrame, low: float, high: float, decimals: int) -> dict:
    """One district's fill and text: a colour by value, hatched when suppressed, white when absent."""
    row = rows.loc[code] if code in rows.index else None
    if row is not None and not missing(row["value"]):
        share = (row["value"] - low) / (high - low) if high > low else 0.5
        state, fill, text = "value", to_hex(_map_colour_scale()(share)), danish_number(row["value"], decimals)
    elif row is not None and row["obs_status"] == "suppressed":
        state, fill, text = "suppressed", "url(#hatch)", "diskretioneret"
    else:
        state, fill, text = "missing", "#ffffff", "ingen værdi"
    return {"code": code, "name": name, "state": state, "fill": fill, "text": text}


def _map_legend(top: float, low: float, high: float, decimals: int, with_missing: bool) -> str:
    legend = (
        f'<rect x="0" y="{top:.0f}" width="140" height="10" fill="url(#map-scale)"/>'
        f'<text class="tick" x="0" y="{top + 24:.0f}">{danish_number(low, decimals)}</text>'
        f'<text class="tick" x="140" y="{top + 24:.0f}" text-anchor="end">{danish_number(high, decimals)}</text>'
        f'<rect x="170" y="{top:.0f}" width="14" height="10" fill="url(#hatch)" stroke="#7a7a7a"/>'
        f'<text class="tick" x="190" y="{top + 9:.0f}">diskretioneret</text>'
    )
    if with_missing:
        legend += (
            f'<rect x="170" y="{top + 16:.0f}" width="14" height="10" fill="#fff" stroke="#7a7a7a"/>'
            f'<text class="tick" x="190" y="{top + 25:.0f}">ingen værdi</text>'
        )
    return legend
