"""The half-yearly refresh: every source's deliveries, then indicators, disclosure control, the
edition, and one transactional load into the warehouse.

Written once against `Steps`: flows/refresh.py runs it as the Prefect flow `barometer-refresh`
(deployments, a Prefect server); a local CLI run calls `refresh()` with plain steps and never
imports Prefect. A source whose inputs are unchanged since the last load (flows/inputs.py) keeps
its stored observations without being read again; the edition is recomputed either way.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone

import pandas as pd
from barometer.config import (
    Settings,
    edition_end,
    edition_or_default,
    editions_between,
    load_catalogue,
    load_districts,
    parse_edition,
    source_config,
)
from barometer.flows.ingest import (
    SourceResult,
    employment_result,
    fetch_employment,
    ingest_file_source,
    pseudonym_key,
    source_deliveries,
    validate_employment,
)
from barometer.flows.inputs import fingerprint
from barometer.flows.steps import LocalSteps
from barometer.sources.registry import STATBANK_SOURCES, file_sources, module
from barometer.transforms.common import KEY
from barometer.transforms.disclosure import suppress
from barometer.transforms.editions import edition_entries
from barometer.validations import data_docs
from barometer.warehouse.database import check_writable, connect, explained_faults, initialise
from barometer.warehouse.load import LoadRequest, load, read_edition, read_source_inputs
from barometer.warehouse.lock import CommittedMeanwhile, refresh_lock

from barometer import timing


@dataclass
class RefreshReport:
    """What a refresh did, for the CLI, the run record and the logs."""

    edition: str
    loaded: dict[str, int] = field(default_factory=dict)  # source -> deliveries in force
    rejected: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sources without any delivery
    reused: list[str] = field(default_factory=list)  # sources whose inputs were unchanged
    observations: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.rejected)

    def markdown(self) -> str:
        lines = [
            f"# Refresh of {self.edition}",
            "",
            f"{self.observations} observations published in {self.seconds:.1f} s.",
            "",
            "| source | outcome |",
            "|---|---|",
        ]
        lines += [
            f"| {source} | loaded: {count} deliveries in force{self._unchanged(source)} |"
            for source, count in self.loaded.items()
        ]
        lines += [f"| {source} | skipped: no delivery |" for source in self.skipped]
        lines += [f"| rejected | {message.replace('|', '/')} |" for message in self.rejected]
        return "\n".join(lines)

    def text(self) -> str:
        lines = [f"Edition {self.edition}: {self.observations} observations published in {self.seconds:.1f} s."]
        lines += [
            f"  loaded   {source}: {count} deliveries in force{self._unchanged(source)}"
            for source, count in self.loaded.items()
        ]
        lines += [f"  no data  {source}: no delivery found" for source in self.skipped]
        lines += [f"  REJECTED {message}" for message in self.rejected]
        if self.rejected:
            lines.append(
                "Rejected deliveries were not loaded; the warehouse keeps the previous good data for "
                "them. Fix or re-send the named files and run the refresh again."
            )
        return "\n".join(lines)

    def _unchanged(self, source: str) -> str:
        return " (unchanged since the last load: not read again)" if source in self.reused else ""


def indicator_sources(code: str) -> list[str]:
    return load_catalogue().sources_of(code)


def dependencies(source: str) -> list[str]:
    """The other sources whose tables `source`'s indicators need (3.1 needs employment's)."""
    needed = {s for code in module("transforms", source).INDICATORS for s in indicator_sources(code)}
    return sorted(needed - {source})


def indicators(source: str, results: dict[str, SourceResult], municipality_code: str) -> pd.DataFrame:
    """A source's indicators from its tables (plus any other source's tables they need), with
    lineage and disclosure control; indicators whose other sources failed are left out."""
    transform = module("transforms", source)
    usable = [code for code in transform.INDICATORS if all(results[s].staged for s in indicator_sources(code))]
    if not usable:
        return pd.DataFrame()
    tables = {}
    for needed in {s for code in usable for s in indicator_sources(code)}:
        tables.update(results[needed].tables())
    with timing.stage("compute"):
        observations = transform.compute(tables, municipality_code)
    observations = observations[observations["indicator_code"].isin(usable)]
    disclosure = source_config("disclosure")
    with timing.stage("suppress"):
        observations = suppress(observations, disclosure["min_persons"], disclosure["partitions"])
    lineage = results[source].delivery_of()
    observations["delivery_id"] = observations["reference_date"].map(lineage)
    return observations


@dataclass
class Plan:
    """Per file source: its deliveries, and the checksum of its inputs."""

    deliveries: dict[str, list] = field(default_factory=dict)
    fingerprints: dict[str, str | None] = field(default_factory=dict)


def ingest_all(steps: LocalSteps, settings: Settings, until: date, stored: dict[str, tuple[str, str]]):
    """Every source's deliveries: StatBank in the background while the files are read; a source
    whose checksum matches the last load's is taken from the warehouse's record instead."""
    key = pseudonym_key()
    table = source_config("employment")["table"]
    fetch = steps.submit(
        f"fetch StatBank {table}",
        "statbank",
        lambda: fetch_employment(settings.statbank_url, settings.municipality_code, until),
    )
    plan, results = Plan(), {}

    def ingest(source: str) -> SourceResult:
        result, _ = steps.run(
            f"ingest {source}",
            "read",
            lambda: ingest_file_source(source, plan.deliveries[source], key, settings.municipality_code, until),
        )
        return result or SourceResult(source)

    def employment(reuse: bool = True) -> SourceResult:
        """StatBank's answer once it has come: reused when it is what the last load computed
        from, else validated (here, in the refresh's own thread)."""
        if "employment" in results and (reuse or not results["employment"].reused):
            return results["employment"]
        staged, error = fetch.result()
        checksum = staged and fingerprint(
            "employment", [replace(staged.delivery, modified=0.0)], until, settings.municipality_code, key.version, {}
        )
        plan.fingerprints["employment"] = checksum
        if reuse and checksum and stored.get("employment", ("",))[0] == checksum:
            results["employment"] = SourceResult.from_outcome("employment", stored["employment"][1])
            return results["employment"]
        if not error:
            staged, error = steps.run(f"validate StatBank {table}", "validate", lambda: validate_employment(staged))
        results["employment"] = employment_result(staged, error, until)
        return results["employment"]

    # Sources that draw on others go last, when those others' checksums are known.
    for source in sorted(file_sources(), key=lambda s: bool(dependencies(s))):
        for needed in dependencies(source):
            if needed in STATBANK_SOURCES:
                employment()
        with timing.stage("read"):
            deliveries = source_deliveries(source, settings.landing_dir)
        plan.deliveries[source] = deliveries
        checksum = fingerprint(
            source,
            deliveries,
            until,
            settings.municipality_code,
            key.version,
            {needed: plan.fingerprints.get(needed) for needed in dependencies(source)},
        )
        plan.fingerprints[source] = checksum
        if source in stored and stored[source][0] == checksum:
            results[source] = SourceResult.from_outcome(source, stored[source][1])
            steps.notice(f"{source}: inputs unchanged since the last load, not read again")
        elif deliveries:
            results[source] = ingest(source)
        else:
            steps.logger.warning(
                "%s: no delivery in %s", source, settings.landing_dir / source_config(source)["landing"]
            )
            results[source] = SourceResult(source)
    employment()
    results = {name: results[name] for name in [*file_sources(), *STATBANK_SOURCES]}
    # A source recomputed from another whose inputs were unchanged needs that one's tables too.
    for source in [s for s, r in results.items() if not r.reused]:
        for needed in dependencies(source):
            if results[needed].reused:
                results[needed] = employment(reuse=False) if needed in STATBANK_SOURCES else ingest(needed)
    return plan, results


def compute_all(
    steps: LocalSteps, results: dict[str, SourceResult], municipality_code: str
) -> tuple[pd.DataFrame, list, list]:
    """Each recomputed source's observations; a failing transform is reported and its source's
    old values kept. Returns the observations, each source's outcome and the failures."""
    frames, failures, computed = [], [], []
    for name, result in results.items():
        if result.reused:
            continue
        frame, failure = steps.run(
            f"compute {name} indicators", "compute", lambda n=name: indicators(n, results, municipality_code)
        )
        if failure:
            failures.append(failure.summary())
            continue
        computed.append(name)
        if not frame.empty:
            frames.append(frame)
    observations = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=KEY)
    return observations, computed, failures


def refresh(edition: str | None, settings: Settings, steps: LocalSteps, run_id: str | None = None) -> RefreshReport:
    """Refresh one edition into the warehouse; the report says what was loaded and rejected."""
    edition = edition_or_default(edition)
    parse_edition(edition)
    started, clock = datetime.now(timezone.utc), time.monotonic()
    until = edition_end(edition)
    check_writable(settings.warehouse_url)  # a read-only disk or refused login: before any reading
    engine = connect(settings.warehouse_url)
    try:
        with explained_faults(settings.warehouse_url):
            stored = read_source_inputs(engine)
        with data_docs.recording() as validated:
            plan, results = ingest_all(steps, settings, until, stored)
        observations, computed, failures = compute_all(steps, results, settings.municipality_code)
        report = RefreshReport(
            edition=edition,
            loaded={n: r.in_force for n, r in results.items() if r.in_force},
            rejected=[message for r in results.values() for message in r.errors] + failures,
            skipped=[n for n, r in results.items() if not r.in_force and not r.errors],
            reused=[n for n, r in results.items() if r.reused],
            observations=len(observations),
        )
        report.seconds = time.monotonic() - clock
        request = LoadRequest(
            run_id=run_id or str(uuid.uuid4()),
            edition=edition,
            edition_end=until,
            started_at=started,
            status="failed" if report.failed else "completed",
            summary=report.text(),
            catalogue=load_catalogue(),
            districts=load_districts(settings.municipality_code),
            deliveries=[row for r in results.values() for row in r.deliveries],
            observations=observations,
            source_inputs={
                name: (plan.fingerprints[name], results[name].outcome_json())
                for name in computed
                if name in plan.fingerprints and plan.fingerprints[name]
            },
        )
        with explained_faults(settings.warehouse_url):
            published = steps.call("load warehouse", "load", lambda: load_warehouse(engine, settings, request, stored))
    finally:
        engine.dispose()
    steps.publish(published, report)
    write_data_docs(steps, settings, validated, edition)
    steps.logger.info(report.text())
    return report


@dataclass
class BackfillReport:
    """Each edition's outcome, in the order they ran."""

    outcomes: dict[str, str] = field(default_factory=dict)  # edition -> the refresh's message
    failed: list[str] = field(default_factory=list)

    def add(self, edition: str, message: str, completed: bool) -> None:
        self.outcomes[edition] = message
        if not completed:
            self.failed.append(edition)

    def text(self) -> str:
        editions = list(self.outcomes)
        lines = [
            f"Backfill {editions[0]} to {editions[-1]}: {len(editions) - len(self.failed)} of "
            f"{len(editions)} editions refreshed."
        ]
        lines += self.outcomes.values()
        if self.failed:
            lines.append(
                f"Failed: {', '.join(self.failed)}. Fix what the messages above name, then "
                f"refresh each again (`barometer refresh --edition ...`) or rerun the backfill."
            )
        return "\n".join(lines)


def backfill(
    first: str, last: str, settings: Settings, steps: LocalSteps, announce=lambda text: None
) -> BackfillReport:
    """Every edition from `first` to `last`, oldest first, each as its own refresh and load;
    deliveries are read and validated once for the whole range. A failed edition does not stop
    the others."""
    from barometer.flows.ingest import reuse_staged
    from barometer.warehouse.database import WarehouseUnavailable
    from barometer.warehouse.lock import WarehouseBusy

    report = BackfillReport()
    with reuse_staged():
        for number, edition in enumerate(editions := editions_between(first, last), start=1):
            announce(f"Edition {edition} ({number} of {len(editions)})")
            try:
                result = refresh(edition, settings, steps)
            except (WarehouseBusy, WarehouseUnavailable) as fault:
                report.add(edition, str(fault), completed=False)
                continue
            report.add(edition, result.text(), completed=not result.failed)
    return report


def load_warehouse(
    engine, settings: Settings, request: LoadRequest, stored: dict[str, tuple[str, str]]
) -> pd.DataFrame:
    """One transaction under the warehouse's refresh lock (taken for the load only, never for
    network waits), after checking that no other refresh committed since this one read `stored`;
    returns the edition as published (city-wide rows)."""
    with refresh_lock(settings.warehouse_url, settings.lock_wait_seconds):
        if read_source_inputs(engine) != stored:
            raise CommittedMeanwhile()
        initialise(engine)
        catalogue = request.catalogue
        load(
            engine,
            request,
            lambda stored: edition_entries(stored, request.edition, catalogue, settings.municipality_code),
        )
        return read_edition(engine, request.edition, settings.municipality_code)


def write_data_docs(steps: LocalSteps, settings: Settings, validated: list, edition: str) -> None:
    """The validation results of this run as Great Expectations Data Docs. They are a
    by-product: the warehouse is loaded by now, so a failure here is only logged."""
    if not validated:
        return
    try:
        index = steps.call(
            "write Data Docs",
            "data docs",
            lambda: data_docs.build(settings.data_docs_dir, validated, f"refresh-{edition}"),
        )
    except Exception as error:  # noqa: BLE001 - the refresh's outcome stands without its Data Docs
        steps.logger.warning("Data Docs not written to %s: %s: %s", settings.data_docs_dir, type(error).__name__, error)
        return
    steps.logger.info("Validation results (Data Docs): %s", index.resolve().as_uri())
