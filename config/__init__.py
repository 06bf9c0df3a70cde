"""Configuration: a run's parameters (config/run.py), the indicator catalogue and source
parameters from YAML beside this file, and the official district list from the city's GeoJSON."""

from barometer.config.catalogue import Catalogue, load_catalogue, source_config
from barometer.config.districts import Districts, load_districts
from barometer.config.run import Edition, Placement, RunRequest, StatBankOptions, edition_end, period_code

__all__ = [
    "Catalogue",
    "Districts",
    "Edition",
    "Placement",
    "RunRequest",
    "StatBankOptions",
    "edition_end",
    "load_catalogue",
    "load_districts",
    "period_code",
    "source_config",
]
