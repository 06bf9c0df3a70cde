"""A run's parameters, built once where a run starts (the CLI, a Prefect flow) and passed down.

This is the only module, with the CLI, that reads `BAROMETER_*` variables: explicit options win
over the environment, which wins over the defaults. Nothing below the edge rebuilds them.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from barometer.config.municipalities import parse_municipalities

DEFAULT_STATBANK_URL = "https://api.statbank.dk/v1"
DEFAULT_WAREHOUSE_URL = "sqlite:///barometer.sqlite"

_EDITION = re.compile(r"^(\d{4})-S([12])$")


@dataclass(frozen=True, order=True)
class Edition:
    """A half-yearly edition ('2012-S2'), parsed once."""

    year: int
    half: int

    @classmethod
    def parse(cls, text: str | None) -> "Edition":
        """'2012-S2' -> Edition(2012, 2); anything else is a clear error."""
        match = _EDITION.match(text or "")
        if not match:
            raise ValueError(f"edition {text!r} is not a half-year like '2012-S2'")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def latest_complete(cls, today: date) -> "Edition":
        """The newest half-year that has ended by `today` (scheduled runs default to it)."""
        return cls(today.year, 1) if today.month >= 7 else cls(today.year - 1, 2)

    @classmethod
    def default(cls) -> "Edition":
        """The latest complete half-year today in Copenhagen: what a scheduled run, which leaves
        the edition empty, refreshes."""
        from zoneinfo import ZoneInfo

        return cls.latest_complete(datetime.now(ZoneInfo("Europe/Copenhagen")).date())

    @classmethod
    def given_or_default(cls, text: str | None) -> "Edition":
        return cls.parse(text) if text else cls.default()

    @classmethod
    def range(cls, first: "Edition", last: "Edition") -> list["Edition"]:
        """Every edition from first to last, inclusive, in order."""
        editions, edition = [], first
        while edition <= last:
            editions.append(edition)
            edition = edition.following()
        if not editions:
            raise ValueError(f"edition {first} comes after {last}")
        return editions

    def following(self) -> "Edition":
        return Edition(self.year, 2) if self.half == 1 else Edition(self.year + 1, 1)

    @property
    def code(self) -> str:
        return f"{self.year}-S{self.half}"

    @property
    def start(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def end(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def __str__(self) -> str:
        return self.code


def edition_end(code: str) -> date:
    """The last day of the edition '2012-S2' (what the warehouse and reports speak in)."""
    return Edition.parse(code).end


def period_code(reference_date: date) -> str:
    """The half-year a reference date belongs to, SDMX style ('2012-S2')."""
    return f"{reference_date.year}-S{1 if reference_date.month <= 6 else 2}"


@dataclass(frozen=True)
class Placement:
    """Where the municipalities of one run work: local processes, or a Dask cluster (an existing
    one by address, or a local one of `dask_workers` started for the run)."""

    dask_address: str | None
    dask_workers: int | None

    @property
    def on_dask(self) -> bool:
        return bool(self.dask_address or self.dask_workers)


@dataclass(frozen=True)
class StatBankOptions:
    """The StatBank API and, when given, a backoff and deadline in place of config/sources.yaml's."""

    url: str
    backoff_factor: float | None
    deadline_seconds: float | None


@dataclass(frozen=True)
class RunRequest:
    """Everything a refresh is asked to do and where: one edition for the given municipalities.
    Made by `build`, the one place that knows the defaults."""

    edition: Edition
    municipalities: tuple[str, ...]
    landing_dir: Path
    warehouse_url: str
    statbank: StatBankOptions
    placement: Placement
    orchestration: str  # 'auto', 'prefect' or 'local' (flows/steps.py `use_prefect`)
    data_docs_dir: Path
    lock_wait_seconds: float
    verbose: bool
    stage_timings: Path | None
    # The key given to this run (BAROMETER_PSEUDONYM_KEY where the run starts, or the demo's own):
    # used in this process and handed to its local worker processes, never to Prefect or a
    # cluster elsewhere, whose workers look theirs up (`pseudonym_key`). None: looked up there too.
    # Never shown.
    pseudonym_secret: str | None = field(default=None, repr=False)

    @property
    def first_municipality(self) -> str:
        """The municipality a report or the demo's table is about unless told otherwise."""
        return self.municipalities[0]

    @classmethod
    def build(cls, environ: Mapping[str, str], **options: Any) -> "RunRequest":
        """The request from explicit `options` (CLI options, flow parameters; None: not given),
        else `environ`'s BAROMETER_* variables, else the defaults. `edition` and `municipalities`
        may be given as text ('2012-S2', '101,147' or 'all'); the edition defaults to the latest
        complete half-year. Raises ValueError naming what is malformed."""
        given = {name: value for name, value in options.items() if value is not None}

        def option(name: str, variable: str, default: str | None = None) -> Any:
            return given[name] if name in given else (environ.get(variable) or default)

        edition = given.get("edition")
        municipalities = option("municipalities", "BAROMETER_MUNICIPALITY", "101")
        dask_workers = option("dask_workers", "BAROMETER_DASK_WORKERS")
        stage_timings = option("stage_timings", "BAROMETER_STAGE_TIMINGS")
        return cls(
            edition=edition if isinstance(edition, Edition) else Edition.given_or_default(edition),
            municipalities=tuple(
                parse_municipalities(municipalities) if isinstance(municipalities, str) else municipalities
            ),
            landing_dir=Path(option("landing_dir", "BAROMETER_LANDING_DIR", "landing")),
            warehouse_url=option("warehouse_url", "BAROMETER_WAREHOUSE_URL", DEFAULT_WAREHOUSE_URL),
            statbank=StatBankOptions(
                url=option("statbank_url", "BAROMETER_STATBANK_URL", DEFAULT_STATBANK_URL),
                backoff_factor=_seconds(environ, "BAROMETER_STATBANK_BACKOFF_FACTOR"),
                deadline_seconds=_seconds(environ, "BAROMETER_STATBANK_DEADLINE_SECONDS"),
            ),
            placement=Placement(
                option("dask_address", "BAROMETER_DASK_ADDRESS"), int(dask_workers) if dask_workers else None
            ),
            orchestration=option("orchestration", "BAROMETER_ORCHESTRATION", "auto"),
            data_docs_dir=Path(option("data_docs_dir", "BAROMETER_DATA_DOCS_DIR", "data_docs")),
            lock_wait_seconds=float(option("lock_wait_seconds", "BAROMETER_LOCK_WAIT_SECONDS", "0")),
            verbose=bool(given.get("verbose")) or environ.get("BAROMETER_VERBOSE", "0") not in ("", "0"),
            stage_timings=Path(stage_timings) if stage_timings else None,
            pseudonym_secret=option("pseudonym_secret", "BAROMETER_PSEUDONYM_KEY"),
        )


def _seconds(environ: Mapping[str, str], variable: str) -> float | None:
    """The environment's number if set, else None (the configured one applies)."""
    value = environ.get(variable)
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{variable}={value!r} is not a number of seconds") from None


def pseudonym_key(environ: Mapping[str, str], given: str | None = None):
    """The keyed-hash secret: the one `given` to the run (the demo's), else
    BAROMETER_PSEUDONYM_KEY, else the Prefect Secret block named in config/sources.yaml `privacy`
    (workers that keep no secrets in their environment), else MissingKeyError. Looked up where
    the work runs, never carried in it; never logged; rotate it between runs, not during one
    (docs/privacy.md)."""
    from barometer.config.catalogue import source_config
    from barometer.sources.errors import MissingKeyError
    from barometer.sources.pseudonym import PseudonymKey

    secret = given or environ.get("BAROMETER_PSEUDONYM_KEY")
    block = source_config("privacy")["pseudonym_key_secret_block"]
    # The block lives on a Prefect server: without one (a local run) there is none to ask.
    if not secret and (prefect_api_configured() or "prefect" in sys.modules):
        secret = _secret_block(block)
    if not secret:
        raise MissingKeyError(secret_block=block)
    return PseudonymKey(secret)


def prefect_api_configured() -> bool:
    """PREFECT_API_URL in the environment or in the active Prefect profile (read without
    importing Prefect, which costs seconds): Prefect's own settings, not the run's."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    if "prefect.settings" in sys.modules:  # already paid for: ask it (test harnesses, profiles)
        from prefect.settings import PREFECT_API_URL

        if PREFECT_API_URL.value():
            return True
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect"))
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml"))
    try:
        config = tomllib.loads(profiles.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    active = os.environ.get("PREFECT_PROFILE") or config.get("active", "ephemeral")
    return bool(config.get("profiles", {}).get(active, {}).get("PREFECT_API_URL"))


def _secret_block(name: str) -> str | None:
    from prefect.blocks.system import Secret
    from prefect.exceptions import ObjectNotFound

    try:
        return Secret.load(name).get()  # type: ignore[union-attr]  # Prefect's stub: sync or a coroutine
    except ValueError as error:  # Prefect's "Unable to find block document": no such block
        if not isinstance(error.__cause__, ObjectNotFound):
            raise
        return None
