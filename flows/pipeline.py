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
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from barometer.config import Edition, RunRequest, load_catalogue
from barometer.config.municipalities import ALL_DENMARK, municipality
from barometer.flows.fanout import Pool, describe, municipality_pool
from barometer.flows.ingest import SourceResult, fetch_statbank, statbank_result
from barometer.flows.municipality import MunicipalityPart, MunicipalityWork, dependencies, landing_for
from barometer.flows.steps import LocalSteps, Submitted
from barometer.sources.protocol import StatBankSource
from barometer.sources.registry import by_name, file_sources, is_statbank, statbank_sources
from barometer.transforms.common import KEY
from barometer.transforms.editions import edition_entries
from barometer.transforms.national import national_shares, share_indicators
from barometer.validations import data_docs
from barometer.warehouse.database import check_writable, connect, explained_faults, initialise
from barometer.warehouse.load import Aggregates, LoadRequest, load
from barometer.warehouse.lock import CommittedMeanwhile, refresh_lock
from barometer.warehouse.read import read_edition, read_source_inputs


@dataclass
class RefreshReport:
    """What a refresh did, for the CLI, the run record and the logs."""

    edition: str  # its code, '2012-S2'
    loaded: dict[str, int] = field(default_factory=dict)  # source -> deliveries in force
    rejected: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sources without any delivery
    reused: list[str] = field(default_factory=list)  # sources whose inputs were unchanged
    observations: int = 0
    seconds: float = 0.0
    # Where several municipalities ran, the sources above are labelled '147 grades' and the
    # summary has one line per municipality.
    municipalities: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, edition: str, parts: list[MunicipalityPart]) -> "RefreshReport":
        several = len(parts) > 1
        report = cls(edition, municipalities=[p.municipality_code for p in parts] if several else [])
        for part in parts:
            prefix = f"{part.municipality_code} " if several else ""
            for name, result in part.results.items():
                if result.in_force:
                    report.loaded[prefix + name] = result.in_force
                elif not result.errors:
                    report.skipped.append(prefix + name)
                if result.reused:
                    report.reused.append(prefix + name)
                labelled = [m if is_statbank(by_name(name)) else prefix + m for m in result.errors]
                report.rejected += [m for m in labelled if m not in report.rejected]  # StatBank's: once
            report.rejected += [prefix + failure for failure in part.failures]
            report.observations += len(part.observations)
        return report

    @property
    def failed(self) -> bool:
        return bool(self.rejected)

    def markdown(self) -> str:
        lines = [
            f"# Refresh of {self.edition}",
            "",
            f"{self.observations} observations published in {self.seconds:.1f} s.",
            "",
        ]
        if self.municipalities:
            lines += ["| municipality | outcome |", "|---|---|"]
            lines += [f"| {code} | {self.municipality_outcome(code)} |" for code in self.municipalities]
            lines += [f"| rejected | {message.replace('|', '/')} |" for message in self.rejected]
            return "\n".join(lines)
        lines += ["| source | outcome |", "|---|---|"]
        lines += [
            f"| {source} | loaded: {count} deliveries in force{self._unchanged(source)} |"
            for source, count in self.loaded.items()
        ]
        lines += [f"| {source} | skipped: no delivery |" for source in self.skipped]
        lines += [f"| rejected | {message.replace('|', '/')} |" for message in self.rejected]
        return "\n".join(lines)

    def text(self) -> str:
        lines = [f"Edition {self.edition}: {self.observations} observations published in {self.seconds:.1f} s."]
        if self.municipalities:
            lines += [f"  {self.municipality_line(code)}" for code in self.municipalities]
            lines += [f"  REJECTED {message}" for message in self.rejected]
            return "\n".join(lines + self._advice())
        lines += [
            f"  loaded   {source}: {count} deliveries in force{self._unchanged(source)}"
            for source, count in self.loaded.items()
        ]
        lines += [f"  no data  {source}: no delivery found" for source in self.skipped]
        lines += [f"  REJECTED {message}" for message in self.rejected]
        return "\n".join(lines + self._advice())

    def _advice(self) -> list[str]:
        if not self.rejected:
            return []
        return [
            "Rejected deliveries were not loaded; the warehouse keeps the previous good data for "
            "them. Fix or re-send the named files and run the refresh again."
        ]

    def municipality_line(self, code: str) -> str:
        """'147 Frederiksberg: 7 sources loaded (2 unchanged), 1 without delivery, 1 rejected'."""
        name = "all Denmark" if code == ALL_DENMARK else municipality(code).name
        return f"{code} {name}: {self.municipality_outcome(code)}"

    def municipality_outcome(self, code: str) -> str:
        """'7 sources loaded (2 unchanged), 1 without delivery, 1 rejected'."""
        mine = [label for label in self.loaded if label.startswith(f"{code} ")]
        unchanged = sum(label in self.reused for label in mine)
        skipped = sum(label.startswith(f"{code} ") for label in self.skipped)
        rejected = sum(message.startswith(f"{code} ") for message in self.rejected)
        text = f"{len(mine)} sources loaded"
        text += f" ({unchanged} unchanged)" if unchanged else ""
        text += f", {skipped} without delivery" if skipped else ""
        return text + (f", {rejected} rejected" if rejected else "")

    def _unchanged(self, source: str) -> str:
        return " (unchanged since the last load: not read again)" if source in self.reused else ""


def ingest_and_compute(
    steps: LocalSteps, pool: Pool, request: RunRequest, stored: dict[str, dict[str, tuple[str, str]]]
) -> list[MunicipalityPart]:
    """Every municipality's sources. Each StatBank source is asked once, for all of them, in the
    background while the file sources that do not draw on StatBank are read; then its cells and
    the sources that need them. Each municipality's work runs where the pool puts it."""
    codes, several, until = list(request.municipalities), len(request.municipalities) > 1, request.edition.end
    areas = statbank_areas(request.municipalities)
    fetches = {source.NAME: submit_fetch(steps, request, source, areas) for source in statbank_sources()}
    independent = [s for s in file_sources() if not dependencies(s)]
    later = [*fetches, *(s for s in file_sources() if dependencies(s))]

    def work(code: str, sources: list[str], statbank: dict[str, SourceResult]) -> MunicipalityWork:
        landing = landing_for(request.landing_dir, code, several)
        return MunicipalityWork(code, landing, until, stored.get(code, {}), sources, statbank, several, request.verbose)

    first = [(w, pool.submit(w)) for w in (work(code, independent, {}) for code in codes)]
    answers = {name: statbank_result(name, *fetch.result(), until) for name, fetch in fetches.items()}
    second = [
        (w, pool.submit(w))
        for w in (
            work(code, later if code != ALL_DENMARK else list(answers), statbank_slices(answers, code))
            for code in areas
        )
    ]
    parts = {code: MunicipalityPart(code) for code in areas}
    for w, handle in first + second:
        parts[w.municipality_code] = merged(parts[w.municipality_code], pool.collect(handle, w))
    return list(parts.values())


def submit_fetch(steps: LocalSteps, request: RunRequest, source: StatBankSource, areas: list[str]) -> Submitted:
    """A StatBank source's fetch, started now in the background ('fetch StatBank employment')."""
    return steps.submit(
        f"fetch StatBank {source.NAME}",
        "statbank",
        lambda: fetch_statbank(source, request.statbank, areas, request.edition.end, steps.context),
    )


def statbank_slices(answers: dict[str, SourceResult], code: str) -> dict[str, SourceResult]:
    return {name: statbank_slice(answer, code) for name, answer in answers.items()}


def statbank_slice(answer: SourceResult, code: str) -> SourceResult:
    """StatBank's answer as one municipality's share of it (its own cells only)."""
    staged = [
        replace(s, tables={name: t[t["area_code"] == code].reset_index(drop=True) for name, t in s.tables.items()})
        for s in answer.staged
    ]
    return replace(answer, staged=staged)


def merged(part: MunicipalityPart, more: MunicipalityPart) -> MunicipalityPart:
    """One municipality's two halves (the sources read at once, the ones after StatBank)."""
    frames = [f for f in (part.observations, more.observations) if not f.empty]
    return MunicipalityPart(
        part.municipality_code,
        results={**part.results, **more.results},
        observations=pd.concat(frames, ignore_index=True) if frames else more.observations,
        computed=part.computed + more.computed,
        failures=part.failures + more.failures,
        fingerprints={**part.fingerprints, **more.fingerprints},
    )


def refresh(request: RunRequest, steps: LocalSteps, run_id: str | None = None) -> RefreshReport:
    """Refresh the request's edition into the warehouse; the report says what was loaded and
    rejected. Run-scoped state (timings, validation results, memos) is the steps' context."""
    edition = request.edition.code
    started, clock = datetime.now(timezone.utc), time.monotonic()
    until = request.edition.end
    check_writable(request.warehouse_url)  # a read-only disk or refused login: before any reading
    engine = connect(request.warehouse_url)
    try:
        codes, placement = request.municipalities, request.placement
        with explained_faults(request.warehouse_url):
            stored = stored_inputs(engine, codes)
        validated = steps.context.new_recording()
        with municipality_pool(steps, placement, len(codes), steps.prefect, request.pseudonym_secret) as pool:
            if len(codes) > 1:
                steps.notice(f"{len(codes)} municipalities, {describe(placement, len(codes))}")
            parts = ingest_and_compute(steps, pool, request, stored)
        report = RefreshReport.of(edition, parts)
        report.seconds = time.monotonic() - clock
        load_request = LoadRequest(
            run_id=run_id or str(uuid.uuid4()),
            edition=edition,
            edition_end=until,
            started_at=started,
            status="failed" if report.failed else "completed",
            summary=report.text(),
            catalogue=load_catalogue(),
            municipality_codes=list(codes),
            deliveries=delivery_rows(parts),
            observations=observations_of(parts),
            source_inputs={
                (part.municipality_code, name): (part.fingerprints[name], result.outcome_json())
                for part in parts
                for name, result in part.results.items()
                if (name in part.computed or result.reused) and part.fingerprints.get(name)
            },
        )
        with explained_faults(request.warehouse_url):
            published = steps.call(
                "load warehouse", "load", lambda: load_warehouse(engine, request, load_request, stored)
            )
    finally:
        engine.dispose()
    steps.publish(published, report)
    write_data_docs(steps, request.data_docs_dir, validated, edition)
    steps.logger.info(report.text())
    return report


def statbank_areas(codes: tuple[str, ...]) -> list[str]:
    """The run's municipalities and, where several run, all Denmark ('000'): StatBank's own
    national cells give the national employment."""
    return [*codes, ALL_DENMARK] if len(codes) > 1 else list(codes)


def stored_inputs(engine, codes: tuple[str, ...]) -> dict[str, dict[str, tuple[str, str]]]:
    """Per area of the run (`statbank_areas`), what its last load computed each source from."""
    return {code: read_source_inputs(engine, code) for code in statbank_areas(codes)}


def delivery_rows(parts: list[MunicipalityPart]) -> list[dict]:
    """Each municipality's delivery records (StatBank's answer is recorded for each it served)."""
    return [
        {**row, "municipality_code": part.municipality_code}
        for part in parts
        for result in part.results.values()
        for row in result.deliveries
    ]


def observations_of(parts: list[MunicipalityPart]) -> pd.DataFrame:
    frames = [part.observations for part in parts if not part.observations.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=KEY)


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
    request: RunRequest, editions: list[Edition], steps: LocalSteps, announce=lambda text: None
) -> BackfillReport:
    """Each of `editions`, oldest first, as its own refresh and load; deliveries are read and
    validated once for the whole range where the steps' context keeps memos
    (`RunContext.across_editions`). A failed edition does not stop the others."""
    from barometer.warehouse.database import WarehouseUnavailable
    from barometer.warehouse.lock import WarehouseBusy

    report = BackfillReport()
    for number, edition in enumerate(editions, start=1):
        announce(f"Edition {edition} ({number} of {len(editions)})")
        try:
            result = refresh(replace(request, edition=edition), steps)
        except (WarehouseBusy, WarehouseUnavailable) as fault:
            report.add(edition.code, str(fault), completed=False)
            continue
        report.add(edition.code, result.text(), completed=not result.failed)
    return report


def load_warehouse(
    engine, run: RunRequest, request: LoadRequest, stored: dict[str, dict[str, tuple[str, str]]]
) -> pd.DataFrame:
    """One transaction under the warehouse's refresh lock (taken for the load only, never for
    network waits), after checking that no other refresh committed since this one read `stored`;
    returns the edition as published (city-wide rows)."""
    with refresh_lock(run.warehouse_url, run.lock_wait_seconds):
        if stored_inputs(engine, run.municipalities) != stored:
            raise CommittedMeanwhile()
        initialise(engine)
        catalogue, codes, city = request.catalogue, run.municipalities, run.first_municipality
        load(
            engine,
            request,
            lambda stored: edition_entries(stored, request.edition, catalogue, city, codes),
            Aggregates(share_indicators(catalogue), lambda city_rows: national_shares(city_rows, catalogue)),
        )
        return read_edition(engine, request.edition, city)


def write_data_docs(steps: LocalSteps, directory: Path, validated: list, edition: str) -> None:
    """The validation results of this run as Great Expectations Data Docs. They are a
    by-product: the warehouse is loaded by now, so a failure here is only logged."""
    if not validated:
        return
    try:
        index = steps.call(
            "write Data Docs",
            "data docs",
            lambda: data_docs.build(directory, validated, f"refresh-{edition}"),
        )
    except Exception as error:  # noqa: BLE001 - the refresh's outcome stands without its Data Docs
        steps.logger.warning("Data Docs not written to %s: %s: %s", directory, type(error).__name__, error)
        return
    steps.logger.info("Validation results (Data Docs): %s", index.resolve().as_uri())
