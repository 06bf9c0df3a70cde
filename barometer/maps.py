"""The report's district maps: the municipality's GeoJSON projected and simplified with shapely
into SVG outlines defined once per page, each indicator's map filling them by value."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache

import pandas as pd
import shapely
from markupsafe import Markup, escape
from matplotlib.colors import LinearSegmentedColormap, to_hex
from shapely.affinity import affine_transform
from shapely.geometry import shape

from barometer.config import load_districts
from barometer.config.districts import district_map
from barometer.formatting import danish_number, decimals_of, missing

# The group a district map and the comparison chart show, the first present (the comparison:
# else the indicator's first group).
MAP_GROUPS = ["minority", "non_western", "all"]
MAP_COLOURS = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]  # ColorBrewer Blues
MAP_WIDTH = 320  # pixels
MAP_TOLERANCE = 0.7  # pixels: coverage simplification, so neighbouring districts keep one border
MAP_LEGEND_HEIGHT = 58


def shown_group(groups: pd.Series) -> str | None:
    """The first MAP_GROUPS group among `groups`, None if none is."""
    return next((group for group in MAP_GROUPS if group in set(groups)), None)


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
    for feature, geometry in zip(features, simplified, strict=False):
        number = int(feature["properties"]["bydel_nr"])
        code = districts.area_code(number)
        paths[code] = _path_data(geometry)
        names[code] = districts.names[number]
    return DistrictShapes(paths, names, (north - south) * scale)


def _path_data(geometry) -> str:
    """SVG path data of a (multi)polygon: every ring, holes included, closed with Z."""
    rings = [ring for polygon in shapely.get_parts(geometry) for ring in [polygon.exterior, *polygon.interiors]]
    return "".join("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in ring.coords[:-1]) + "Z" for ring in rings)


def map_defs(city_code: str) -> str:
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


def indicator_map(rows: pd.DataFrame, unit: str, city_code: str) -> dict | None:
    """The edition's district values of the first MAP_GROUPS group present, as a map and a list."""
    group = shown_group(rows["group_code"])
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
