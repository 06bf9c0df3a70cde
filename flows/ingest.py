"""Each source's deliveries: read → validate → stage, one step per source.

A delivery that breaks a rule is rejected whole and recorded; the source goes on with its other
deliveries. Only the pseudonymised, in-memory tables leave this module. The key is looked up
where the work runs (config/run.py `pseudonym_key`) and handed to readers in memory, never as a
parameter (Prefect records those).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from barometer.config import StatBankOptions, source_config
from barometer.flows.context import RunContext
from barometer.flows.steps import attempt
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import find_deliveries, verify_unchanged
from barometer.sources.protocol import StatBankSource
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.registry import by_name, computed_from, file_source, landing_folder
from barometer.sources.staged import Delivery, StagedDelivery, concatenated

if TYPE_CHECKING:
    from barometer.sources.employment import StatBankAnswer

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


def read_and_validate(
    delivery: Delivery, key: PseudonymKey, municipality_code: str, context: RunContext
) -> StagedDelivery:
    """One delivery read, pseudonymised and validated; its file must not change meanwhile. Of a
    table with columns its spec marks `computed`, only those are kept."""
    if delivery.problem:
        raise delivery.problem
    with context.timings.stage("read"):
        staged = file_source(delivery.source).read(delivery, key, municipality_code)
        verify_unchanged(delivery)
    with context.timings.stage("validate"):
        file_source(delivery.source).validate(staged, record=context.record)
    return staged.keeping(computed_from(delivery.source))


def ingest_delivery(
    delivery: Delivery, key: PseudonymKey, municipality_code: str, context: RunContext
) -> tuple[StagedDelivery | None, DeliveryError | None]:
    """read → validate for one delivery; the first broken rule stops it. Where the context keeps
    a memo (a backfill, the demo), a delivery already read in this process is not read again."""
    memo = (delivery.source, delivery.name, delivery.sha256, municipality_code, key.version)
    if context.staged is not None and memo in context.staged:
        return context.staged[memo]
    staged, error = attempt(delivery.name, lambda: read_and_validate(delivery, key, municipality_code, context))
    if context.staged is not None:
        context.staged[memo] = (staged, error)
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
    folder = Path(landing_dir) / landing_folder(source)
    return find_deliveries(source, folder, source_config("ignore_patterns"), known)


def ingest_file_source(
    source: str,
    deliveries: list[Delivery],
    key: PseudonymKey,
    municipality_code: str,
    until: date,
    context: RunContext,
) -> SourceResult:
    """Read, validate and stage every delivery of one source."""
    result = SourceResult(source)
    accepted = []
    for delivery in deliveries:
        staged, error = ingest_delivery(delivery, key, municipality_code, context)
        if error:
            reject(result, delivery, error, key.version)
        elif staged is not None:
            accepted.append(staged)
    stage(result, accepted, until)
    log.info("%s: %d deliveries in force, %d rejected", source, len(result.staged), len(result.errors))
    return result


def fetch_statbank(
    source: StatBankSource,
    statbank: StatBankOptions,
    municipality_codes: list[str],
    until: date,
    context: RunContext,
) -> StatBankAnswer:
    """A StatBank source's cells of the municipalities up to `until` (one request per table for
    all of them; include '000' for all Denmark), each table checked against its tableinfo, within
    one deadline for the whole fetch (the client's retries included; sources/statbank.py). Each
    table's delivery is validated by `validate_statbank`.

    Where the context keeps a memo (a backfill, the demo) each table is asked once, for every year it
    has, and each edition is staged from that answer; a failed table is remembered, not asked
    again edition after edition."""
    with source.open_client(statbank.url, statbank.backoff_factor, statbank.deadline_seconds) as client:
        return source.fetch(client, municipality_codes, until, answers=context.statbank)


def validate_statbank(source: str, staged: StagedDelivery, context: RunContext) -> StagedDelivery:
    """One table's delivery ('StatBank RAS201') through its suite; a broken rule rejects that
    table only, as a failed fetch does."""
    with context.timings.stage("validate"):
        by_name(source).validate(staged, record=context.record)
    return staged


def statbank_result(
    source: str, answer: StatBankAnswer | None, error: DeliveryError | None, until: date
) -> SourceResult:
    """Each table's delivery staged (lineage per table), each failed table rejected by name."""
    result = SourceResult(source)
    for failure in [error] if error else answer.failures if answer else []:
        reject(result, Delivery(source, None, failure.file, "", 0.0), failure, None)
    if answer:
        stage(result, answer.staged, until)
    return result
