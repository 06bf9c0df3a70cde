"""Each source's deliveries: read → validate → stage, one step per source.

A delivery that breaks a rule is rejected whole and recorded; the source goes on with its other
deliveries. Only the pseudonymised, in-memory tables leave this module. The key is read in the
refresh's own process (environment or Prefect Secret block) and handed to readers in memory,
never as a parameter (Prefect records those).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from barometer.config import source_config
from barometer.flows.steps import attempt, prefect_api_configured
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import find_deliveries, verify_unchanged
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.registry import module
from barometer.sources.staged import Delivery, StagedDelivery, concatenated

from barometer import timing

if TYPE_CHECKING:
    from barometer.sources.employment import StatBankAnswer, TableAnswer
    from barometer.sources.statbank import StatBankError

log = logging.getLogger("barometer")


@dataclass
class SourceResult:
    """What one source contributes to a refresh."""

    source: str
    staged: list[StagedDelivery] = field(default_factory=list)  # in force, up to the edition's end
    deliveries: list[dict] = field(default_factory=list)  # rows for barometer_delivery
    errors: list[str] = field(default_factory=list)
    reused: bool = False  # inputs unchanged since the last load: its observations stand as stored
    # delivery name -> [identity, SHA-256] of its files as found (sources/landing.py file_identity):
    # the next refresh trusts those checksums while the identities hold.
    checksums: dict[str, list[str]] = field(default_factory=dict)

    @property
    def in_force(self) -> int:
        return sum(row["status"] == "loaded" for row in self.deliveries)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Each staged table concatenated over the deliveries in force."""
        names = {name for staged in self.staged for name in staged.tables}
        return {name: concatenated([s.tables[name] for s in self.staged if name in s.tables]) for name in sorted(names)}

    def delivery_of(self) -> dict[date, str]:
        """reference date -> id of the delivery in force that covers it (for lineage)."""
        covered = {}
        for staged in self.staged:
            for table in staged.tables.values():
                for reference_date in pd.unique(table["reference_date"]):
                    covered[reference_date] = delivery_id(staged.delivery)
        return covered

    def outcome_json(self) -> str:
        """What a later refresh with the same inputs reports without reading them again."""
        rows = [
            {**row, "reference_date": row["reference_date"] and row["reference_date"].isoformat()}
            for row in self.deliveries
        ]
        return json.dumps({"deliveries": rows, "errors": self.errors, "checksums": self.checksums}, sort_keys=True)

    @classmethod
    def from_outcome(cls, source: str, outcome: str) -> "SourceResult":
        stored = json.loads(outcome)
        rows = [
            {**row, "reference_date": row["reference_date"] and date.fromisoformat(row["reference_date"])}
            for row in stored["deliveries"]
        ]
        checksums = stored.get("checksums", {})  # none in outcomes recorded before they were kept
        return cls(source, deliveries=rows, errors=stored["errors"], reused=True, checksums=checksums)


def delivery_id(delivery: Delivery) -> str:
    return hashlib.sha256(f"{delivery.source}\0{delivery.name}\0{delivery.sha256}".encode()).hexdigest()[:32]


def delivery_row(
    delivery: Delivery,
    status: str,
    *,
    staged: StagedDelivery | None = None,
    message: str | None = None,
    key_version: str | None = None,
) -> dict:
    return {
        "delivery_id": delivery_id(delivery),
        "source": delivery.source,
        "name": delivery.name,
        "reference_date": staged.reference_date if staged else None,
        "sha256": delivery.sha256,
        "rows": staged.rows if staged else None,
        "status": status,
        "message": message,
        "key_version": staged.key_version if staged else key_version,
    }


def pseudonym_key() -> PseudonymKey:
    """The keyed-hash secret: BAROMETER_PSEUDONYM_KEY, else the Prefect Secret block named in
    config/sources.yaml `privacy` (workers that keep no secrets in their environment), else
    MissingKeyError. Never logged; rotate it between runs, not during one (docs/privacy.md)."""
    from barometer.sources.errors import MissingKeyError

    secret = os.environ.get("BAROMETER_PSEUDONYM_KEY")
    block = source_config("privacy")["pseudonym_key_secret_block"]
    # The block lives on a Prefect server: without one (a local run) there is none to ask.
    if not secret and (prefect_api_configured() or "prefect" in sys.modules):
        secret = _secret_block(block)
    if not secret:
        raise MissingKeyError(secret_block=block)
    return PseudonymKey(secret)


def _secret_block(name: str) -> str | None:
    from prefect.blocks.system import Secret
    from prefect.exceptions import ObjectNotFound

    try:
        return Secret.load(name).get()  # type: ignore[union-attr]  # sync here: Prefect's stub allows a coroutine
    except ValueError as error:  # Prefect's "Unable to find block document": no such block
        if not isinstance(error.__cause__, ObjectNotFound):
            raise
        return None


def read_and_validate(delivery: Delivery, key: PseudonymKey, municipality_code: str) -> StagedDelivery:
    """One delivery read, pseudonymised and validated; its file must not change meanwhile. Of a
    table its source lists in `computed_from`, only the columns its transforms read are kept."""
    if delivery.problem:
        raise delivery.problem
    with timing.stage("read"):
        staged = module("sources", delivery.source).read(delivery, key, municipality_code)
        staged = replace(staged, municipality_code=municipality_code)
        verify_unchanged(delivery)
    with timing.stage("validate"):
        module("validations", delivery.source).validate(staged)
    return staged.keeping(source_config(delivery.source).get("computed_from", {}))


# Deliveries already read and validated, and StatBank's answers, in this process while a backfill
# or the demo refreshes edition after edition from the same inputs. Memory only, and only inside
# `reuse_staged()`; StatBank's answers are aggregate counts, never person-level data.
_staged_in_process: dict[tuple, tuple[StagedDelivery | None, DeliveryError | None]] | None = None
_statbank_in_process: dict[tuple, TableAnswer | StatBankError] | None = None


@contextmanager
def reuse_staged() -> Iterator[None]:
    """Within this block, a delivery (same source, name and checksum) is read and validated once."""
    global _staged_in_process, _statbank_in_process
    _staged_in_process, _statbank_in_process = {}, {}
    try:
        yield
    finally:
        _staged_in_process = _statbank_in_process = None


def ingest_delivery(
    delivery: Delivery, key: PseudonymKey, municipality_code: str
) -> tuple[StagedDelivery | None, DeliveryError | None]:
    """read → validate for one delivery; the first broken rule stops it."""
    memo = (delivery.source, delivery.name, delivery.sha256, municipality_code, key.version)
    if _staged_in_process is not None and memo in _staged_in_process:
        return _staged_in_process[memo]
    staged, error = attempt(delivery.name, lambda: read_and_validate(delivery, key, municipality_code))
    if _staged_in_process is not None:
        _staged_in_process[memo] = (staged, error)
    return staged, error


def stage(result: SourceResult, accepted: list[StagedDelivery], until: date) -> None:
    """Per reference date, the newest valid delivery is in force; older ones are superseded.
    Deliveries describing dates after the edition's end are left for a later edition."""
    by_date: dict[date, list[StagedDelivery]] = {}
    for staged in accepted:
        if staged.reference_date > until:
            log.info(
                "%s describes %s, after the edition's end: not loaded", staged.delivery.name, staged.reference_date
            )
            continue
        by_date.setdefault(staged.reference_date, []).append(staged)
    for candidates in by_date.values():
        *older, newest = sorted(candidates, key=lambda s: (s.delivery.modified, s.delivery.name))
        result.staged.append(newest)
        result.deliveries.append(delivery_row(newest.delivery, "loaded", staged=newest))
        result.deliveries.extend(
            delivery_row(s.delivery, "superseded", staged=s, message=f"replaced by {newest.delivery.name}")
            for s in older
        )


def reject(result: SourceResult, delivery: Delivery, error: DeliveryError, key_version: str | None) -> None:
    log.error("rejected %s", error.summary())
    result.errors.append(error.summary())
    result.deliveries.append(delivery_row(delivery, "rejected", message=error.summary(), key_version=key_version))


def source_deliveries(source: str, landing_dir: Path, known: dict[str, list[str]] | None = None) -> list[Delivery]:
    """The source's deliveries in the landing zone, oldest first (checksummed, not yet read);
    `known` is the last load's `SourceResult.checksums`, trusted while the files' identity holds."""
    folder = Path(landing_dir) / source_config(source)["landing"]
    return find_deliveries(source, folder, source_config("ignore_patterns"), known)


def ingest_file_source(
    source: str, deliveries: list[Delivery], key: PseudonymKey, municipality_code: str, until: date
) -> SourceResult:
    """Read, validate and stage every delivery of one source."""
    result = SourceResult(source)
    accepted = []
    for delivery in deliveries:
        staged, error = ingest_delivery(delivery, key, municipality_code)
        if error:
            reject(result, delivery, error, key.version)
        elif staged is not None:
            accepted.append(staged)
    stage(result, accepted, until)
    log.info("%s: %d deliveries in force, %d rejected", source, len(result.staged), len(result.errors))
    return result


def fetch_employment(statbank_url: str, municipality_codes: str | list[str], until: date) -> StatBankAnswer:
    """The municipalities' StatBank cells up to `until` (one request per table for all of them;
    include '000' for all Denmark), each configured table that covers those years checked against
    its tableinfo, within one deadline for the whole fetch (the client's retries included;
    sources/statbank.py). Each table's delivery is validated by `validate_employment`.

    Inside `reuse_staged()` (a backfill, the demo) each table is asked once, for every year it
    has, and each edition is staged from that answer; a failed table is remembered, not asked
    again edition after edition."""
    from barometer.sources.employment import fetch, open_client

    with open_client(statbank_url) as client:
        return fetch(client, municipality_codes, until, answers=_statbank_in_process)


def validate_employment(staged: StagedDelivery) -> StagedDelivery:
    """One table's delivery ('StatBank RAS201') through its suite; a broken rule rejects that
    table only, as a failed fetch does."""
    with timing.stage("validate"):
        module("validations", "employment").validate(staged)
    return staged


def employment_result(answer: StatBankAnswer | None, error: DeliveryError | None, until: date) -> SourceResult:
    """Each table's delivery staged (lineage per table), each failed table rejected by name."""
    result = SourceResult("employment")
    for failure in [error] if error else answer.failures if answer else []:
        reject(result, Delivery("employment", None, failure.file, "", 0.0), failure, None)
    if answer:
        stage(result, answer.staged, until)
    return result
