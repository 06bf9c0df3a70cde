"""One subflow per source: extract → validate → stage.

A delivery that breaks a rule is rejected whole and recorded; the source goes on with its other
deliveries. Only the pseudonymised, in-memory tables leave this module: the key is read here
(environment or Prefect Secret block) and never passed as a parameter (Prefect records those).
"""

from __future__ import annotations

import hashlib
import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State

from barometer.config import source_config
from barometer.sources.base import Delivery, StagedDelivery, find_deliveries
from barometer.sources.errors import DeliveryError
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.registry import module

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
    """The keyed-hash secret: BAROMETER_PSEUDONYM_KEY, else the Prefect Secret block named in
    config/sources.yaml `privacy` (workers that keep no secrets in their environment), else
    MissingKeyError. Never logged; rotate it between runs, not during one (docs/privacy.md)."""
    from prefect.blocks.system import Secret
    from prefect.exceptions import ObjectNotFound

    from barometer.sources.errors import MissingKeyError

    secret = os.environ.get("BAROMETER_PSEUDONYM_KEY")
    block = source_config("privacy")["pseudonym_key_secret_block"]
    if not secret:
        try:
            secret = Secret.load(block).get()
        except ValueError as error:  # Prefect's "Unable to find block document": no such block
            if not isinstance(error.__cause__, ObjectNotFound):
                raise
    if not secret:
        raise MissingKeyError(secret_block=block)
    return PseudonymKey(secret)


def rejected(error: DeliveryError) -> State:
    """A rejected delivery ends its task Failed with the error as data: no traceback in the log."""
    return Failed(message=error.summary(), data=error)


def unexpected(file: str, error: Exception) -> DeliveryError:
    """An error nobody anticipated, named by type and place only: its message might quote a cell."""
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" in {Path(frame.filename).name} line {frame.lineno}" if frame else ""
    return DeliveryError(file, "delivery can be processed", detail=(
        f"unexpected {type(error).__name__}{where}; the message is withheld as it may hold personal "
        "data - reproduce with `barometer validate` on the file"))


def outcome(state: State, file: str) -> tuple[StagedDelivery | None, DeliveryError | None]:
    """A task's staged delivery, or why it was rejected (a crash or timeout counts as a rejection)."""
    value = state.result(raise_on_failure=False)
    if isinstance(value, DeliveryError):
        return None, value
    if isinstance(value, BaseException):
        return None, unexpected(file, value)
    return value, None


@task(task_run_name="read {delivery.name}", **IN_MEMORY)
def extract(delivery: Delivery, municipality_code: str):
    try:
        return module("sources", delivery.source).read(delivery, pseudonym_key(), municipality_code)
    except DeliveryError as error:
        return rejected(error)
    except Exception as error:  # noqa: BLE001 - any failure rejects the delivery, safely worded
        return rejected(unexpected(delivery.name, error))


@task(task_run_name="validate {staged.delivery.name}", **IN_MEMORY)
def validate(staged: StagedDelivery):
    try:
        module("validations", staged.delivery.source).validate(staged)
    except DeliveryError as error:
        return rejected(error)
    except Exception as error:  # noqa: BLE001
        return rejected(unexpected(staged.delivery.name, error))
    return staged


# Deliveries already read and validated in this process, while a backfill or the demo refreshes
# edition after edition from the same files. Memory only, and only inside `reuse_staged()`.
_staged_in_process: dict[tuple, tuple[StagedDelivery | None, DeliveryError | None]] | None = None


@contextmanager
def reuse_staged() -> Iterator[None]:
    """Within this block, a delivery (same source, name and checksum) is read and validated once."""
    global _staged_in_process
    _staged_in_process = {}
    try:
        yield
    finally:
        _staged_in_process = None


def ingest_delivery(delivery: Delivery, municipality_code: str) -> tuple[StagedDelivery | None, DeliveryError | None]:
    """extract → validate for one delivery; the first broken rule stops it."""
    key = (delivery.source, delivery.name, delivery.sha256, municipality_code, pseudonym_key().version)
    if _staged_in_process is not None and key in _staged_in_process:
        get_run_logger().info("%s: unchanged since it was read in this process; reusing it", delivery.name)
        return _staged_in_process[key]
    staged, error = outcome(extract(delivery, municipality_code, return_state=True), delivery.name)
    if not error:
        staged, error = outcome(validate(staged, return_state=True), delivery.name)
    if _staged_in_process is not None:
        _staged_in_process[key] = (staged, error)
    return staged, error


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


def reject(result: SourceResult, delivery: Delivery, error: DeliveryError, key_version: str | None) -> None:
    get_run_logger().error("rejected %s", error.summary())
    result.errors.append(error.summary())
    result.deliveries.append(delivery_row(delivery, "rejected", message=error.summary(), key_version=key_version))


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
        staged, error = ingest_delivery(delivery, municipality_code)
        if error:
            reject(result, delivery, error, pseudonym_key().version)
        else:
            accepted.append(staged)
    stage(result, accepted, until)
    logger.info("%s: %d deliveries in force, %d rejected", source, len(result.staged), len(result.errors))
    return result


def retry_when_unavailable(task, task_run, state) -> bool:
    """Retry the fetch only when the API did not answer; a refused request or a changed table
    will fail the same way again."""
    from barometer.sources.statbank import StatBankUnavailable

    return isinstance(state.result(raise_on_failure=False), (StatBankUnavailable, TimeoutError))


@task(task_run_name="fetch StatBank {table}", retry_condition_fn=retry_when_unavailable, **IN_MEMORY)
def fetch_statbank(table: str, statbank_url: str, municipality_code: str, until: date):
    from barometer.sources.employment import fetch
    from barometer.sources.statbank import StatBankClient

    try:
        with StatBankClient(statbank_url, **statbank_client_options()) as client:
            return fetch(client, municipality_code, until)
    except DeliveryError as error:
        return rejected(error)
    except Exception as error:  # noqa: BLE001
        return rejected(unexpected(f"StatBank {table}", error))


def statbank_client_options() -> dict:
    """Client timeouts and retries from config; BAROMETER_STATBANK_BACKOFF_FACTOR overrides the
    backoff (tests and impatient engineers)."""
    options = dict(source_config("employment")["client"])
    if os.environ.get("BAROMETER_STATBANK_BACKOFF_FACTOR"):
        options["backoff_factor"] = float(os.environ["BAROMETER_STATBANK_BACKOFF_FACTOR"])
    return options


@flow(flow_run_name="ingest-employment", validate_parameters=False, persist_result=False)
def ingest_employment(statbank_url: str, municipality_code: str, until: date) -> SourceResult:
    """Fetch KAS201 from StatBank, check it against tableinfo and validate it."""
    config = source_config("employment")
    result = SourceResult("employment")
    fetch = fetch_statbank.with_options(
        timeout_seconds=config["task_timeout_seconds"],
        retries=config["task_retries"],
        retry_delay_seconds=float(os.environ.get("BAROMETER_STATBANK_RETRY_DELAY_SECONDS",
                                                 config["task_retry_delay_seconds"])))
    name = f"StatBank {config['table']}"
    staged, error = outcome(fetch(config["table"], statbank_url, municipality_code, until, return_state=True), name)
    if not error:
        staged, error = outcome(validate(staged, return_state=True), name)
    if error:
        reject(result, Delivery("employment", None, name, "", 0.0), error, None)
    else:
        stage(result, [staged], until)
    return result
