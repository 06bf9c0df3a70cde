"""`barometer validate PATH`: one delivery checked against its source's rules exactly as a
refresh reads and validates it, but without Prefect and without touching the warehouse, so an
engineer can try a file before dropping it into the landing zone.

Personal data is pseudonymised in memory as in a refresh: with BAROMETER_PSEUDONYM_KEY if set,
else with a random key thrown away afterwards (uniqueness rules only compare pseudonyms within
the delivery, so any key gives the same verdict). Nothing is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from barometer.config import source_config
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import delivery_at, is_ignored
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.registry import all_sources, file_sources, landing_folder
from barometer.sources.staged import Delivery


class UsageError(Exception):
    """The path or source cannot be validated as asked (the CLI exits 2)."""


@dataclass(frozen=True)
class Verdict:
    """What validating one delivery found: the refresh's summary line when it was rejected."""

    delivery: Delivery
    error: DeliveryError | None = None
    rows: int = 0
    reference_date: date | None = None

    @property
    def valid(self) -> bool:
        return self.error is None

    def text(self) -> str:
        if self.error:
            return self.error.summary()
        return f"{self.delivery.name}: valid ({self.rows} rows, reference date {self.reference_date})"


def validate_delivery(path: Path, source: str | None, municipality_code: str, secret: str | None) -> Verdict:
    """Read, pseudonymise and validate the delivery at `path` (a file, or a delivery folder or a
    file inside one) as `municipality_code`'s, exactly as a refresh does (flows/ingest.py
    `read_and_validate`, which also checks that the files did not change while read); the source
    is the landing folder it sits in unless given. `secret` is the key, if one is set."""
    from barometer.flows.context import RunContext
    from barometer.flows.ingest import read_and_validate

    delivery = locate(path, source)
    try:
        staged = read_and_validate(delivery, key_for_validation(secret), municipality_code, RunContext())
    except DeliveryError as error:
        return Verdict(delivery, error)
    except Exception as error:  # noqa: BLE001 - reported as a refresh reports it, message withheld
        from barometer.flows.steps import unexpected

        return Verdict(delivery, unexpected(delivery.name, error))
    return Verdict(delivery, rows=staged.rows, reference_date=staged.reference_date)


def locate(path: Path, source: str | None) -> Delivery:
    """The delivery `path` belongs to: the entry of a source's landing folder on its way up
    (landing/childcare/udtraek/boern.csv is childcare's landing/childcare/udtraek), else, with a
    source given, the path itself."""
    if source in all_sources() and source not in file_sources():
        raise UsageError(f"{source} is fetched from StatBank by a refresh, not delivered as a file")
    if source is not None and source not in file_sources():
        raise UsageError(f"unknown source {source!r}; the file sources are {', '.join(file_sources())}")
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    landings = {landing_folder(name): name for name in ([source] if source else file_sources())}
    found = _landing_entry(path.resolve(), landings)
    if found is None:
        if source is None:
            raise UsageError(
                f"{path} is not inside a landing folder ({', '.join(landings)}): name its source with --source"
            )
        found = (path.resolve(), source)
    entry, source = found
    ignore = source_config("ignore_patterns")
    if is_ignored(entry.name, ignore):
        raise UsageError(
            f"{entry.name} is not a delivery: a refresh ignores names like {', '.join(ignore)} "
            "(Excel owner files, hidden files, OS litter)"
        )
    return delivery_at(source, entry, f"{landing_folder(source)}/{entry.name}", zone=entry.parent)


def _landing_entry(path: Path, landings: dict[str, str]) -> tuple[Path, str] | None:
    """`path` or the ancestor of it that sits directly in a landing folder, with its source."""
    for inner in [path, *path.parents]:
        if inner.parent.name in landings:
            return inner, landings[inner.parent.name]
    return None


def key_for_validation(secret: str | None) -> PseudonymKey:
    """The municipality's key when set, else a random one that lives as long as this process."""
    return PseudonymKey(secret or secrets.token_hex(32))
