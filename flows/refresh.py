"""The half-yearly refresh: every source's subflow, then indicators, disclosure control, the
edition, and one transactional load into the warehouse."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run
from prefect.states import Completed, Failed

from barometer.config import (Settings, edition_end, latest_complete_edition, load_catalogue, load_districts,
                    parse_edition, source_config)
from barometer.flows.ingest import (IN_MEMORY, SourceResult, ingest_employment, ingest_file_source, outcome,
                          pseudonym_key, unexpected)
from barometer.sources.registry import file_sources, module
from barometer.transforms.common import KEY
from barometer.transforms.disclosure import suppress
from barometer.transforms.editions import edition_entries
from barometer.validations import data_docs
from barometer.warehouse.database import connect, initialise
from barometer.warehouse.load import LoadRequest, load, read_edition
from barometer.warehouse.lock import WarehouseBusy, refresh_lock


COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@dataclass
class RefreshReport:
    """What a refresh did, for the CLI, the run record and the logs."""

    edition: str
    loaded: dict[str, int] = field(default_factory=dict)  # source -> deliveries in force
    rejected: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sources without any delivery
    observations: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.rejected)

    def markdown(self) -> str:
        lines = [f"# Refresh of {self.edition}", "",
                 f"{self.observations} observations published in {self.seconds:.1f} s.", "",
                 "| source | outcome |", "|---|---|"]
        lines += [f"| {source} | loaded: {count} deliveries in force |" for source, count in self.loaded.items()]
        lines += [f"| {source} | skipped: no delivery |" for source in self.skipped]
        lines += [f"| rejected | {message.replace('|', '/')} |" for message in self.rejected]
        return "\n".join(lines)

    def text(self) -> str:
        lines = [f"Edition {self.edition}: {self.observations} observations published in {self.seconds:.1f} s."]
        lines += [f"  loaded   {source}: {count} deliveries in force" for source, count in self.loaded.items()]
        lines += [f"  no data  {source}: no delivery found" for source in self.skipped]
        lines += [f"  REJECTED {message}" for message in self.rejected]
        if self.rejected:
            lines.append("Rejected deliveries were not loaded; the warehouse keeps the previous good data for "
                         "them. Fix or re-send the named files and run the refresh again.")
        return "\n".join(lines)


def indicator_sources(code: str) -> list[str]:
    return load_catalogue().sources_of(code)


@task(task_run_name="compute {source} indicators", **IN_MEMORY)
def compute(source: str, results: dict[str, SourceResult], municipality_code: str):
    """A source's indicators, or a Failed state whose message names the place but withholds the
    error's text (it could quote person-level data); the warehouse then keeps their old values."""
    try:
        return indicators(source, results, municipality_code)
    except Exception as error:  # noqa: BLE001 - one source's transform must not stop the others
        failure = unexpected(f"indicators of {source}", error)
        return Failed(message=failure.summary(), data=failure)


def indicators(source: str, results: dict[str, SourceResult], municipality_code: str) -> pd.DataFrame:
    """A source's indicators from its tables (plus any other source's tables they need), with
    lineage and disclosure control; indicators whose other sources failed are left out."""
    transform = module("transforms", source)
    usable = [code for code in transform.INDICATORS
              if all(results[s].staged for s in indicator_sources(code))]
    if not usable:
        return pd.DataFrame()
    tables = {}
    for needed in {s for code in usable for s in indicator_sources(code)}:
        tables.update(results[needed].tables())
    observations = transform.compute(tables, municipality_code)
    observations = observations[observations["indicator_code"].isin(usable)]
    disclosure = source_config("disclosure")
    observations = suppress(observations, disclosure["min_persons"], disclosure["partitions"])
    lineage = results[source].delivery_of()
    observations["delivery_id"] = observations["reference_date"].map(lineage)
    return observations


@task(task_run_name="load warehouse", **IN_MEMORY)
def load_warehouse(settings: Settings, request: LoadRequest) -> pd.DataFrame:
    """One transaction; returns the edition as published (city-wide rows) for the artifacts."""
    engine = connect(settings.warehouse_url)
    try:
        initialise(engine)
        catalogue = request.catalogue
        load(engine, request, lambda stored: edition_entries(
            stored, request.edition, catalogue, settings.municipality_code))
        return read_edition(engine, request.edition, settings.municipality_code)
    finally:
        engine.dispose()


@task(task_run_name="publish artifacts", **IN_MEMORY)
def publish_artifacts(edition: pd.DataFrame, report: RefreshReport) -> None:
    """The edition as a table and the run as markdown, on the flow run and under Artifacts."""
    columns = ["indicator_code", "group_code", "reference_date", "value", "previous_value", "change", "status"]
    rows = edition[columns].astype(object).where(edition[columns].notna(), None)
    rows["reference_date"] = rows["reference_date"].map(lambda d: None if d is None else str(d)[:10])
    create_table_artifact(key="barometer-edition", table=rows.to_dict("records"),
                          description=f"Inklusionsbarometer {report.edition}, city-wide")
    create_markdown_artifact(key="barometer-run-summary", markdown=report.markdown(),
                             description=f"Refresh of {report.edition}")


def edition_or_default(edition: str | None) -> str:
    """The edition asked for, else the latest complete half-year today in Copenhagen (what a
    scheduled run, which leaves the parameter empty, refreshes)."""
    return edition or latest_complete_edition(datetime.now(COPENHAGEN).date())


def run_name() -> str:
    """'refresh-2012-S2' in the UI, scheduled runs included (not 'refresh-None')."""
    return f"refresh-{edition_or_default(flow_run.parameters.get('edition'))}"


@task(task_run_name="write data docs", **IN_MEMORY)
def write_data_docs(directory: Path, validated: list[data_docs.Validated], edition: str) -> None:
    """The validation results of this run as Great Expectations Data Docs in `directory`.
    They are a by-product: the warehouse is loaded by now, so a failure here is only logged."""
    logger = get_run_logger()
    if not validated:
        return
    try:
        index = data_docs.build(directory, validated, f"refresh-{edition}")
    except Exception as error:  # noqa: BLE001 - the refresh's outcome stands without its Data Docs
        logger.warning("Data Docs not written to %s: %s: %s", directory, type(error).__name__, error)
        return
    logger.info("Validation results (Data Docs): %s", index.resolve().as_uri())


@flow(name="barometer-refresh", flow_run_name=run_name, validate_parameters=False, persist_result=False)
def barometer_refresh(edition: str | None = None, landing: str | None = None, warehouse: str | None = None,
                      statbank_url: str | None = None):
    """Refresh one half-yearly edition (e.g. '2012-S2'; default: the latest complete half-year)
    from the landing zone and StatBank.

    Options left unset fall back to BAROMETER_* environment variables. Ends Failed (after loading
    everything that was good) when any delivery was rejected.
    """
    edition = edition_or_default(edition)
    parse_edition(edition)
    settings = Settings.from_env(landing_dir=landing, warehouse_url=warehouse, statbank_url=statbank_url)
    pseudonym_key()  # refuse before anything is read when the key is missing
    try:
        with refresh_lock(settings.warehouse_url, settings.lock_wait_seconds):
            return _refresh(edition, settings)
    except WarehouseBusy as busy:
        return Failed(message=str(busy), data=busy)


def _refresh(edition: str, settings: Settings):
    started, clock = datetime.now(timezone.utc), time.monotonic()
    logger = get_run_logger()
    until = edition_end(edition)
    with data_docs.recording() as validated:
        results = {name: ingest_file_source(name, str(settings.landing_dir), settings.municipality_code, until)
                   for name in file_sources()}
        results["employment"] = ingest_employment(settings.statbank_url, settings.municipality_code, until)
    frames, failures = [], []
    for name in results:
        frame, failure = outcome(compute(name, results, settings.municipality_code, return_state=True),
                                 f"indicators of {name}")
        frames += [frame] if failure is None and not frame.empty else []
        failures += [failure.summary()] if failure else []
    observations = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=KEY)
    report = RefreshReport(
        edition=edition,
        loaded={n: len(r.staged) for n, r in results.items() if r.staged},
        rejected=[message for r in results.values() for message in r.errors] + failures,
        skipped=[n for n, r in results.items() if not r.staged and not r.errors],
        observations=len(observations),
    )
    report.seconds = time.monotonic() - clock
    run_id = str(flow_run.id or uuid.uuid4())
    published = load_warehouse(settings, LoadRequest(
        run_id=run_id, edition=edition, edition_end=until, started_at=started,
        status="failed" if report.failed else "completed", summary=report.text(),
        catalogue=load_catalogue(), districts=load_districts(settings.municipality_code),
        deliveries=[row for r in results.values() for row in r.deliveries],
        observations=observations,
    ))
    publish_artifacts(published, report)
    write_data_docs(settings.data_docs_dir, validated, edition)
    logger.info(report.text())
    if report.failed:
        return Failed(message=report.text(), data=report)
    return Completed(message=report.text(), data=report)
