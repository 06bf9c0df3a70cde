"""Configuration: run settings from the environment, the indicator catalogue and source parameters
from YAML beside this file, and the official district list from the city's GeoJSON."""

from barometer.config.catalogue import Catalogue, load_catalogue, source_config
from barometer.config.districts import Districts, load_districts
from barometer.config.settings import (
    Settings,
    edition_end,
    edition_or_default,
    edition_start,
    editions_between,
    latest_complete_edition,
    parse_edition,
    period_code,
)

__all__ = [
    "Catalogue",
    "Districts",
    "Settings",
    "edition_end",
    "edition_start",
    "editions_between",
    "edition_or_default",
    "latest_complete_edition",
    "load_catalogue",
    "load_districts",
    "parse_edition",
    "period_code",
    "source_config",
]
