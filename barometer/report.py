"""The barometer as readers see it: one edition as a single, self-contained Danish HTML page.

Built only from the public views (through `barometer.export.read_tables`), so an analyst with
read-only access can make it. Charts and district maps are inline SVG drawn here: the page loads
nothing, runs no script, prints as it looks, and the same warehouse always gives the same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from barometer.export import EditionTables, read_tables
from barometer.config import edition_end, load_districts, source_config
from barometer.config.districts import GEOJSON

STATUS_LABELS = {"progress": "Fremgang", "regress": "Tilbagegang", "unchanged": "Uændret",
                 "first_measurement": "Første måling", "not_measured": "Ikke målt",
                 "suppressed": "Diskretioneret", "no_comparison": "Ingen sammenligning"}
UNIT_LABELS = {"percent": "procent", "percentage points": "procentpoint", "index points": "indekspoint",
               "count": "antal", "none": ""}
DIRECTION_LABELS = {"higher": "Højere er bedre", "lower": "Lavere er bedre"}
FREQUENCY_LABELS = {"annual": "årligt", "half-yearly": "halvårligt"}
SOURCE_LABELS = {
    "employment": "Danmarks Statistik, Statistikbanken (tabel KAS201)",
    "grades": "Folkeskolens afgangsprøve (karakterer)",
    "youth_education": "Ungdomsuddannelsesstatus pr. 1. oktober",
    "school_enrolment": "Elevregisteret (folkeskoler)",
    "childcare": "Pladsanvisningen (dagtilbud, fritidshjem og klubber)",
    "survey": "Inklusionsundersøgelsen",
    "safety": "Tryghedsindekset",
    "workforce": "Kommunens HR-udtræk",
}
DELIVERY_STATUS_LABELS = {"loaded": "indlæst", "superseded": "erstattet", "rejected": "afvist"}
MONTHS = ["jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec."]
# Reference groups blue, compared groups orange, everyone grey: the same colour means the same
# kind of group in every chart.
GROUP_COLOURS = {"all": "#4d4d4d", "danish": "#2166ac", "majority": "#2166ac", "monolingual": "#2166ac",
                 "non_western": "#d6604d", "minority": "#d6604d", "bilingual": "#d6604d"}
MAP_GROUPS = ["minority", "non_western", "all"]  # the group a district map shows, first present
MAP_COLOURS = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]  # ColorBrewer Blues
CHART_WIDTH, CHART_HEIGHT = 600, 250
PLOT = {"left": 52, "right": 20, "top": 14, "bottom": 28}
MAP_WIDTH, MAP_TOLERANCE = 320, 0.7  # pixels; vertices closer than the tolerance are dropped
MAP_LEGEND_HEIGHT = 58


# Danish formatting ------------------------------------------------------------------------------

def missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def danish_number(value, decimals: int = 1, signed: bool = False) -> str:
    """1234.56 -> '1.234,6', with a real minus sign, '–' for no value. A signed change keeps its
    sign when it rounds to zero ('−0,0'), so it agrees with its status."""
    if missing(value):
        return "–"
    rounded = round(float(value), decimals)
    text = f"{abs(rounded):,.{decimals}f}".translate(str.maketrans(",.", ".,"))
    negative = value < 0 if signed else rounded < 0
    return ("−" if negative else "+" if signed and value > 0 else "") + text


def decimals_of(unit: str) -> int:
    return 0 if unit == "count" else 1


def danish_date(day) -> str:
    return "–" if missing(day) else f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


# The page ----------------------------------------------------------------------------------------

def build_report(warehouse_url: str, edition: str, out: Path) -> Path:
    """Write the edition's report to `out` (HTML); returns the path."""
    html = render(read_tables(warehouse_url, edition))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def render(tables: EditionTables) -> str:
    entries = tables.edition.assign(status_code=lambda e: e.apply(_status_code, axis=1))
    city_code = entries.loc[entries["area_level"] == "municipality", "area_code"].iloc[0]
    city = entries[entries["area_code"] == city_code]
    history = tables.observations[(tables.observations["measure"] == "value")
                                  & (tables.observations["area_code"] == city_code)]
    districts = entries[entries["area_level"] == "district"]
    until = edition_end(tables.edition_code)
    indicators = [_indicator(row, city, history, districts, until, city_code) for row in tables.catalogue.itertuples()]
    return _environment().get_template("report.html.j2").render(
        edition=tables.edition_code, edition_end=until,
        goals=_goals(tables.catalogue, indicators), indicators=indicators,
        status_counts=city["status_code"].value_counts().to_dict(), status_labels=STATUS_LABELS,
        min_persons=source_config("disclosure")["min_persons"],
        survey_codes=sorted(set(city.loc[city["ci_low"].notna(), "indicator_code"])),
        runs=sorted(set(entries["run_id"])), deliveries=tables.deliveries, source_labels=SOURCE_LABELS,
        delivery_status_labels=DELIVERY_STATUS_LABELS,
        map_defs=Markup(_map_defs(city_code)))


@cache
def _environment() -> Environment:
    environment = Environment(loader=PackageLoader("barometer", "templates"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
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
    return [{"number": goal.goal, "name": goal.goal_name_da,
             "indicators": [i for i in indicators if i["goal"] == goal.goal]} for goal in goals.itertuples()]


def _indicator(row, city: pd.DataFrame, history: pd.DataFrame, districts: pd.DataFrame, until: date,
               city_code: str) -> dict:
    """Everything the page shows about one indicator."""
    code = row.indicator_code
    entries = city[city["indicator_code"] == code]
    targeted = entries[entries["target_value"].notna()]
    target = targeted.iloc[0] if not targeted.empty else None
    sources = [s.strip() for s in row.source.split(",") if s.strip() != "none"]
    indicator = {
        "code": code, "goal": row.goal, "name": row.name_da, "unit": row.unit,
        "unit_label": UNIT_LABELS.get(row.unit, row.unit), "direction": DIRECTION_LABELS.get(row.direction, ""),
        "frequency": FREQUENCY_LABELS.get(row.frequency, row.frequency), "method": row.method,
        "sources": [SOURCE_LABELS.get(s, s) for s in sources], "measured": bool(row.measured),
        "entries": entries.to_dict("records"), "target": target, "chart": None, "legend": [],
        "map": _district_map(districts[districts["indicator_code"] == code], row.unit, city_code),
    }
    series = history[history["indicator_code"] == code]
    if not series.empty:
        indicator["chart"] = history_chart(series, target, until, row.unit)
        indicator["legend"] = [(GROUP_COLOURS.get(group, "#000"), name) for group, name in
                               series[["group_code", "group_name_da"]].drop_duplicates().itertuples(index=False)]
    return indicator


# Charts ----------------------------------------------------------------------------------------

def decimal_year(day: date) -> float:
    start = date(day.year, 1, 1)
    return day.year + (day - start).days / (date(day.year + 1, 1, 1) - start).days


def nice_ticks(low: float, high: float, integers: bool = False, count: int = 5) -> list[float]:
    """Round axis ticks covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(step, 1) if integers else step
    first = math.floor(low / step + 1e-9) * step
    steps = math.ceil((high - first) / step - 1e-9)
    return [round(first + i * step, 10) for i in range(steps + 1)]


def tick_decimals(ticks: list[float]) -> int:
    return next(d for d in range(4) if all(abs(t - round(t, d)) < 1e-9 for t in ticks))


class Scale:
    """A linear map from data to pixels."""

    def __init__(self, domain: tuple[float, float], pixels: tuple[float, float]) -> None:
        self.domain, self.pixels = domain, pixels

    def __call__(self, value: float) -> float:
        (d0, d1), (p0, p1) = self.domain, self.pixels
        return p0 + (value - d0) / (d1 - d0) * (p1 - p0)


def history_chart(series: pd.DataFrame, target, until: date, unit: str) -> Markup:
    """The indicator's values in the city by group over time; the target as a dotted line with
    its year, survey values with their 95 % intervals; suppressed values leave a gap."""
    first = min(decimal_year(day) for day in series["reference_date"])
    last = decimal_year(until) if target is None else max(decimal_year(until), target["target_year"] + 1.0)
    x = Scale((math.floor(first), math.ceil(last)), (PLOT["left"], CHART_WIDTH - PLOT["right"]))
    span = series[["value", "ci_low", "ci_high"]].stack()
    known = list(span) + ([] if target is None else [target["target_value"]])
    ticks = nice_ticks(min(known), max(known), integers=unit == "count")
    y = Scale((ticks[0], ticks[-1]), (CHART_HEIGHT - PLOT["bottom"], PLOT["top"]))
    parts = [_axes(x, y, ticks)]
    if target is not None:
        parts.append(_target_line(x, y, target))
    for group, rows in series.groupby("group_code", sort=False):
        parts.append(_series(rows.sort_values("reference_date"), x, y, GROUP_COLOURS.get(group, "#000"), unit))
    return Markup(f'<svg class="chart" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
                  f'aria-label="Udvikling over tid">{"".join(parts)}</svg>')


def _axes(x: Scale, y: Scale, ticks: list[float]) -> str:
    decimals = tick_decimals(ticks)
    bottom, left, right = y.pixels[0], x.pixels[0], x.pixels[1]
    lines = [f'<line class="grid" x1="{left}" x2="{right}" y1="{y(t):.1f}" y2="{y(t):.1f}"/>'
             f'<text class="tick" x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">'
             f'{danish_number(t, decimals)}</text>' for t in ticks]
    first, last = int(x.domain[0]), int(x.domain[1])
    every = 1 if last - first <= 10 else 2
    lines += [f'<line class="axis" x1="{x(year):.1f}" x2="{x(year):.1f}" y1="{bottom}" y2="{bottom + 4}"/>'
              f'<text class="tick" x="{x(year + 0.5):.1f}" y="{bottom + 17}" text-anchor="middle">{year}</text>'
              for year in range(first, last, every)]
    lines.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>')
    return "".join(lines)


def _target_line(x: Scale, y: Scale, target) -> str:
    level, year = y(target["target_value"]), int(target["target_year"])
    label = f'Mål {year}: {danish_number(target["target_value"], decimals_of(target["unit"]))}'
    return (f'<line class="target" x1="{x.pixels[0]}" x2="{x.pixels[1]}" y1="{level:.1f}" y2="{level:.1f}"/>'
            f'<text class="target-label" x="{x.pixels[1] - 4}" y="{level - 5:.1f}" text-anchor="end">'
            f'{escape(label)}</text>')


def _series(rows: pd.DataFrame, x: Scale, y: Scale, colour: str, unit: str) -> str:
    """One group's line, broken where a value is suppressed, with a point (and interval) per value."""
    segments, current, points = [], [], []
    for row in rows.itertuples():
        if missing(row.value):
            segments, current = segments + [current], []
            continue
        px, py = x(decimal_year(row.reference_date)), y(row.value)
        current.append(f"{px:.1f},{py:.1f}")
        label = f"{row.group_name_da}, {danish_date(row.reference_date)}: {danish_number(row.value, decimals_of(unit))}"
        interval = ""
        if not missing(row.ci_low):
            interval = (f'<line class="interval" x1="{px:.1f}" x2="{px:.1f}" y1="{y(row.ci_low):.1f}" '
                        f'y2="{y(row.ci_high):.1f}" stroke="{colour}"/>')
            label += f" (95 %-interval {danish_number(row.ci_low)}–{danish_number(row.ci_high)})"
        points.append(f'<g>{interval}<circle cx="{px:.1f}" cy="{py:.1f}" r="3.2" fill="{colour}">'
                      f'<title>{escape(label)}</title></circle></g>')
    lines = [f'<polyline class="line" points="{" ".join(s)}" stroke="{colour}"/>'
             for s in segments + [current] if len(s) > 1]
    return "".join(lines + points)


# District maps ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DistrictShapes:
    """Copenhagen's districts drawn once, for every map of the page."""

    paths: dict[str, str]  # area code -> SVG path data
    names: dict[str, str]  # area code -> district name
    height: float  # of the map, for MAP_WIDTH


@cache
def district_shapes(municipality_code: str) -> DistrictShapes:
    """The districts projected from the GeoJSON's longitude/latitude (EPSG:4326) to SVG, with
    longitudes shrunk by cos(latitude) so shapes keep their proportions at Copenhagen's latitude."""
    features = json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]
    points = [p for f in features for polygon in f["geometry"]["coordinates"] for ring in polygon for p in ring]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    shrink = math.cos(math.radians((south + north) / 2))
    scale = MAP_WIDTH / ((east - west) * shrink)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (lon - west) * shrink * scale, (north - lat) * scale

    districts = load_districts(municipality_code)
    paths, names = {}, {}
    for feature in sorted(features, key=lambda f: int(f["properties"]["bydel_nr"])):
        number = int(feature["properties"]["bydel_nr"])
        rings = [_simplified([project(*p) for p in ring]) for polygon in feature["geometry"]["coordinates"]
                 for ring in polygon]
        code = districts.area_code(number)
        paths[code] = "".join("M" + "L".join(f"{px:.1f} {py:.1f}" for px, py in ring) + "Z" for ring in rings)
        names[code] = districts.names[number]
    return DistrictShapes(paths, names, (north - south) * scale)


def _simplified(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The ring without vertices closer than MAP_TOLERANCE to the last one kept."""
    kept = [ring[0]]
    for point in ring[1:]:
        if math.dist(point, kept[-1]) >= MAP_TOLERANCE:
            kept.append(point)
    return kept


def _map_defs(city_code: str) -> str:
    """The district outlines, the hatching and the colour scale, defined once for every map."""
    outlines = "".join(f'<path id="area-{code}" d="{d}"/>' for code, d in district_shapes(city_code).paths.items())
    stops = "".join(f'<stop offset="{i / (len(MAP_COLOURS) - 1):.2f}" stop-color="{c}"/>'
                    for i, c in enumerate(MAP_COLOURS))
    return ('<svg class="defs" width="0" height="0" aria-hidden="true"><defs>'
            f'{outlines}<linearGradient id="map-scale">{stops}</linearGradient>'
            '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e6e6e6"/>'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#7a7a7a" stroke-width="2"/></pattern></defs></svg>')


def _colour(share: float) -> str:
    """A colour along MAP_COLOURS for a share 0-1 of the way from the lowest value to the highest."""
    position = share * (len(MAP_COLOURS) - 1)
    low = min(int(position), len(MAP_COLOURS) - 2)
    a, b = MAP_COLOURS[low], MAP_COLOURS[low + 1]
    mix = [round(int(a[i:i + 2], 16) + (position - low) * (int(b[i:i + 2], 16) - int(a[i:i + 2], 16)))
           for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in mix)


def _district_map(rows: pd.DataFrame, unit: str, city_code: str) -> dict | None:
    """The edition's district values of the first MAP_GROUPS group present, as a map and a list."""
    group = next((g for g in MAP_GROUPS if g in set(rows["group_code"])), None)
    if group is None:
        return None
    rows = rows[rows["group_code"] == group].set_index("area_code")
    shapes = district_shapes(city_code)
    values = rows["value"].dropna()
    low, high = (values.min(), values.max()) if not values.empty else (0.0, 0.0)
    areas = [_district(code, name, rows, low, high, decimals_of(unit)) for code, name in shapes.names.items()]
    outlines = "".join(f'<g><title>{escape(a["name"])}: {escape(a["text"])}</title>'
                       f'<use href="#area-{a["code"]}" fill="{a["fill"]}"/></g>' for a in areas)
    legend = _map_legend(shapes.height + 14, low, high, decimals_of(unit),
                         any(a["state"] == "missing" for a in areas))
    svg = (f'<svg class="map" viewBox="-2 -2 {MAP_WIDTH + 4} {shapes.height + MAP_LEGEND_HEIGHT:.0f}" role="img" '
           f'aria-label="Kort over bydelene"><g class="districts">{outlines}</g>{legend}</svg>')
    first = rows.iloc[0]
    return {"svg": Markup(svg), "group": first["group_name_da"], "date": first["reference_date"], "areas": areas}


def _district(code: str, name: str, rows: pd.DataFrame, low: float, high: float, decimals: int) -> dict:
    """One district's fill and text: a colour by value, hatched when suppressed, white when absent."""
    row = rows.loc[code] if code in rows.index else None
    if row is not None and not missing(row["value"]):
        share = (row["value"] - low) / (high - low) if high > low else 0.5
        state, fill, text = "value", _colour(share), danish_number(row["value"], decimals)
    elif row is not None and row["obs_status"] == "suppressed":
        state, fill, text = "suppressed", "url(#hatch)", "diskretioneret"
    else:
        state, fill, text = "missing", "#ffffff", "ingen værdi"
    return {"code": code, "name": name, "state": state, "fill": fill, "text": text}


def _map_legend(top: float, low: float, high: float, decimals: int, with_missing: bool) -> str:
    legend = (f'<rect x="0" y="{top:.0f}" width="140" height="10" fill="url(#map-scale)"/>'
              f'<text class="tick" x="0" y="{top + 24:.0f}">{danish_number(low, decimals)}</text>'
              f'<text class="tick" x="140" y="{top + 24:.0f}" text-anchor="end">{danish_number(high, decimals)}</text>'
              f'<rect x="170" y="{top:.0f}" width="14" height="10" fill="url(#hatch)" stroke="#7a7a7a"/>'
              f'<text class="tick" x="190" y="{top + 9:.0f}">diskretioneret</text>')
    if with_missing:
        legend += (f'<rect x="170" y="{top + 16:.0f}" width="14" height="10" fill="#fff" stroke="#7a7a7a"/>'
                   f'<text class="tick" x="190" y="{top + 25:.0f}">ingen værdi</text>')
    return legend
