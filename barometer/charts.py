"""The report's charts: an indicator's history and its municipality's place among all, drawn by
matplotlib and inlined as SVG with a tooltip per point. Fixed styles, salted ids and no metadata
keep the same data giving the same bytes."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ElementTree
from contextlib import contextmanager
from datetime import date
from typing import Any

import matplotlib
import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.typing import RcKeyType

from barometer.config.municipalities import ALL_DENMARK_NAME
from barometer.formatting import danish_date, danish_number, decimals_of, missing

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
TARGET_COLOUR = "#b2182b"
OTHERS_COLOUR = "#b3b3b3"  # the other municipalities in a comparison chart
NATIONAL_COLOUR = "#4d4d4d"
NAMED_MUNICIPALITIES = 8  # a comparison chart names every municipality on its axis up to this many
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
    for year, row in zip(years, rows.itertuples(), strict=False):
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
