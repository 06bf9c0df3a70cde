"""One subflow per source: extract → validate → stage.

A delivery that breaks a rule is rejected whole and recorded; the source goes on with its other
deliveries. Only the pseudonymised, in-memory tables leave this module: the key is read here
from the environment and never passed as a flow parameter (Prefect records those).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from config import source_config
from sources.base import Delivery, StagedDelivery, find_deliveries
from sources.errors import DeliveryError
from sources.pseudonym import PseudonymKey
from sources.registry import module

# Person-level frames pass between tasks in memory only: never cached, never persisted.
IN_MEMORY = {"cache_policy": NO_CACHE, "persist_result": False}


@dataclass
class SourceResult:
    """What one source contributes to a refresh."""

    source: str
    staged: list[StagedDelivery] = field(default_factory=list)  # in force, up to the edition's end
    deliveries: list[dict] = field(default_factory=list)  # rows for barometer_delivery
    errors: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Each staged table concatenated over the deliveries in force."""
        names = {name for staged in self.staged for name in staged.tables}
        return {name: pd.concat([s.tables[name] for s in self.staged if name in s.tables], ignore_index=True)
                for name in sorted(names)}

    def delivery_of(self) -> dict[date, str]:
        """reference date -> id of the delivery in force that covers it (for lineage)."""
        covered = {}
        for staged in self.staged:
            for table in staged.tables.values():
                for reference_date in pd.unique(table["reference_date"]):
                    covered[reference_date] = delivery_id(staged.delivery)
        return covered


def delivery_id(delivery: Delivery) -> str:
    return hashlib.sha256(f"{delivery.source}\0{delivery.name}\0{delivery.sha256}".encode()).hexdigest()[:32]


def delivery_row(delivery: Delivery, status: str, *, staged: StagedDelivery | None = None,
                 message: str | None = None, key_version: str | None = None) -> dict:
    return {
        "delivery_id": delivery_id(delivery), "source": delivery.source, "name": delivery.name,
        "reference_date": staged.reference_date if staged else None, "sha256": delivery.sha256,
        "rows": staged.rows if staged else None, "status": status, "message": message,
        "key_version": staged.key_version if staged else key_version,
    }


def pseudonym_key() -> PseudonymKey:
    """The keyed-hash secret, from BAROMETER_PSEUDONYM_KEY; MissingKeyError without it."""
    return PseudonymKey(os.environ.get("BAROMETER_PSEUDONYM_KEY"))


@task(task_run_name="read {delivery.name}", **IN_MEMORY)
def extract(delivery: Delivery, municipality_code: str) -> StagedDelivery:
    return module("sources", delivery.source).read(delivery, pseudonym_key(), municipality_code)


@task(task_run_name="validate {staged.delivery.name}", **IN_MEMORY)
def validate(staged: StagedDelivery) -> StagedDelivery:
    module("validations", staged.delivery.source).validate(staged)
    return staged


def stage(result: SourceResult, accepted: list[StagedDelivery], until: date) -> None:
    """Per reference date, the newest valid delivery is in force; older ones are superseded.
    Deliveries describing dates after the edition's end are left for a later edition."""
    logger = get_run_logger()
    by_date: dict[date, list[StagedDelivery]] = {}
    for staged in accepted:
        if staged.reference_date > until:
            logger.info("%s describes %s, after the edition's end: not loaded", staged.delivery.name,
                        staged.reference_date)
            continue
        by_date.setdefault(staged.reference_date, []).append(staged)
    for candidates in by_date.values():
        *older, newest = sorted(candidates, key=lambda s: (s.delivery.modified, s.delivery.name))
        result.staged.append(newest)
        result.deliveries.append(delivery_row(newest.delivery, "loaded", staged=newest))
        result.deliveries.extend(delivery_row(s.delivery, "superseded", staged=s,
                                              message=f"replaced by {newest.delivery.name}") for s in older)


@flow(flow_run_name="ingest-{source}", validate_parameters=False, persist_result=False)
def ingest_file_source(source: str, landing_dir: str, municipality_code: str, until: date) -> SourceResult:
    """Read, validate and stage every delivery in the source's landing folder."""
    logger = get_run_logger()
    result = SourceResult(source)
    folder = Path(landing_dir) / source_config(source)["landing"]
    deliveries = find_deliveries(source, folder, source_config("ignore_patterns"))
    if not deliveries:
        logger.warning("%s: no delivery in %s", source, folder)
        return result
    accepted = []
    for delivery in deliveries:
        try:
            accepted.append(validate(extract(delivery, municipality_code)))
        except DeliveryError as error:
            logger.error("rejected %s", error.summary())
            result.errors.append(error.summary())
            result.deliveries.append(delivery_row(delivery, "rejected", message=error.summary(),
                                                  key_version=pseudonym_key().version))
    stage(result, accepted, until)
    logger.info("%s: %d deliveries in force, %d rejected", source, len(result.staged), len(result.errors))
    return result


@task(task_run_name="fetch StatBank {table}", retries=2, retry_delay_seconds=[5, 30], timeout_seconds=600,
      **IN_MEMORY)
def fetch_statbank(table: str, statbank_url: str, municipality_code: str, until: date) -> StagedDelivery:
    from sources.employment import fetch
    from sources.statbank import StatBankClient

    return fetch(StatBankClient(statbank_url), municipality_code, until)


@flow(flow_run_name="ingest-employment", validate_parameters=False, persist_result=False)
def ingest_employment(statbank_url: str, municipality_code: str, until: date) -> SourceResult:
    """Fetch KAS201 from StatBank, check it against tableinfo and validate it."""
    logger = get_run_logger()
    result = SourceResult("employment")
    table = source_config("employment")["table"]
    try:
        staged = validate(fetch_statbank(table, statbank_url, municipality_code, until))
    except DeliveryError as error:
        logger.error("rejected %s", error.summary())
        failed = Delivery("employment", None, f"StatBank {table}", "", 0.0)
        result.errors.append(error.summary())
        result.deliveries.append(delivery_row(failed, "rejected", message=error.summary()))
        return result
    stage(result, [staged], until)
    return result
