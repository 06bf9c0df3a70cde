"""Run settings: every option has an environment variable and a sensible default."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from barometer.config.municipalities import parse_municipalities

DEFAULT_STATBANK_URL = "https://api.statbank.dk/v1"
DEFAULT_WAREHOUSE_URL = "sqlite:///barometer.sqlite"

_EDITION = re.compile(r"^(\d{4})-S([12])$")


@dataclass(frozen=True)
class Settings:
    """Where a refresh reads from and writes to.

    Environment variables (all optional): BAROMETER_LANDING_DIR, BAROMETER_WAREHOUSE_URL,
    BAROMETER_STATBANK_URL, BAROMETER_MUNICIPALITY (a code, several as '101,147', or 'all'),
    BAROMETER_DATA_DOCS_DIR, BAROMETER_LOCK_WAIT_SECONDS (how long a refresh waits for another one
    on the same warehouse), BAROMETER_DASK_ADDRESS (run the municipalities on that Dask cluster),
    BAROMETER_DASK_WORKERS (start a local Dask cluster of that many workers).
    """

    landing_dir: Path = Path("landing")
    warehouse_url: str = DEFAULT_WAREHOUSE_URL
    statbank_url: str = DEFAULT_STATBANK_URL
    municipality_code: str = "101"  # the first of municipality_codes: reports and exports default to it
    data_docs_dir: Path = Path("data_docs")
    lock_wait_seconds: float = 0.0
    municipality_codes: tuple[str, ...] = ()  # empty: just municipality_code
    dask_address: str | None = None
    dask_workers: int | None = None

    def __post_init__(self) -> None:
        if not self.municipality_codes:
            object.__setattr__(self, "municipality_codes", (self.municipality_code,))
        elif self.municipality_code not in self.municipality_codes:
            object.__setattr__(self, "municipality_code", self.municipality_codes[0])

    @classmethod
    def from_env(cls, **overrides: Any) -> "Settings":
        """Settings from the environment; explicit overrides (CLI options) win when not None."""
        env = os.environ
        settings = cls(
            landing_dir=Path(env.get("BAROMETER_LANDING_DIR", "landing")),
            warehouse_url=env.get("BAROMETER_WAREHOUSE_URL", DEFAULT_WAREHOUSE_URL),
            statbank_url=env.get("BAROMETER_STATBANK_URL", DEFAULT_STATBANK_URL),
            municipality_codes=tuple(parse_municipalities(env.get("BAROMETER_MUNICIPALITY", "101"))),
            data_docs_dir=Path(env.get("BAROMETER_DATA_DOCS_DIR", "data_docs")),
            lock_wait_seconds=float(env.get("BAROMETER_LOCK_WAIT_SECONDS", "0")),
            dask_address=env.get("BAROMETER_DASK_ADDRESS") or None,
            dask_workers=int(env["BAROMETER_DASK_WORKERS"]) if env.get("BAROMETER_DASK_WORKERS") else None,
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        if isinstance(given.get("municipality_codes"), str):
            given["municipality_codes"] = tuple(parse_municipalities(given["municipality_codes"]))
        if "municipality_codes" in given:
            given["municipality_code"] = given["municipality_codes"][0]
        if "landing_dir" in given:
            given["landing_dir"] = Path(given["landing_dir"])
        if "data_docs_dir" in given:
            given["data_docs_dir"] = Path(given["data_docs_dir"])
        return replace(settings, **given)


def parse_edition(edition: str) -> tuple[int, int]:
    """'2012-S2' -> (2012, 2); anything else is a clear error."""
    match = _EDITION.match(edition or "")
    if not match:
        raise ValueError(f"edition {edition!r} is not a half-year like '2012-S2'")
    return int(match.group(1)), int(match.group(2))


def edition_start(edition: str) -> date:
    year, half = parse_edition(edition)
    return date(year, 1 if half == 1 else 7, 1)


def edition_end(edition: str) -> date:
    year, half = parse_edition(edition)
    return date(year, 6, 30) if half == 1 else date(year, 12, 31)


def latest_complete_edition(today: date) -> str:
    """The newest half-year that has ended by `today` (scheduled runs default to it)."""
    return f"{today.year}-S1" if today.month >= 7 else f"{today.year - 1}-S2"


def edition_or_default(edition: str | None) -> str:
    """The edition asked for, else the latest complete half-year today in Copenhagen (what a
    scheduled run, which leaves the parameter empty, refreshes)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return edition or latest_complete_edition(datetime.now(ZoneInfo("Europe/Copenhagen")).date())


def period_code(reference_date: date) -> str:
    """The half-year a reference date belongs to, SDMX style ('2012-S2')."""
    return f"{reference_date.year}-S{1 if reference_date.month <= 6 else 2}"


def editions_between(first: str, last: str) -> list[str]:
    """Every half-year edition from first to last, inclusive, in order."""
    (year, half), (last_year, last_half) = parse_edition(first), parse_edition(last)
    editions = []
    while (year, half) <= (last_year, last_half):
        editions.append(f"{year}-S{half}")
        year, half = (year, 2) if half == 1 else (year + 1, 1)
    if not editions:
        raise ValueError(f"edition {first} comes after {last}")
    return editions
