"""One municipality's file sources: read → validate → stage → compute, wherever that runs.

This is the unit a refresh fans out (flows/fanout.py): the refresh's own process for one
municipality, else a local worker process or a Dask worker. Person-level tables live and die
inside it. What it returns (`MunicipalityPart`) holds aggregates only, the observations after
disclosure control, and delivery records: the only things that cross to the flow process. The
pseudonym key is looked up where the work runs (its environment or the Prefect Secret block),
never passed in.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path

import pandas as pd
from barometer.config import load_catalogue, source_config
from barometer.config.run import pseudonym_key
from barometer.flows.ingest import (
    SourceResult,
    ingest_file_source,
    reject,
    source_deliveries,
    stage,
    validate_statbank,
)
from barometer.flows.inputs import fingerprint
from barometer.flows.steps import LocalSteps
from barometer.sources.errors import DeliveryError
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.registry import by_name, landing_folder
from barometer.sources.staged import Delivery, StagedDelivery
from barometer.transforms.common import KEY
from barometer.transforms.disclosure import suppress

from barometer.timing import StageTimings


@dataclass
class MunicipalityWork:
    """What a worker needs for one municipality: no person-level data, no key."""

    municipality_code: str
    landing_dir: Path  # this municipality's landing zone
    until: date
    stored: dict[str, tuple[str, str]]  # source -> (checksum, outcome) as this municipality's last load left them
    sources: list[str]  # StatBank sources first: the file sources after them may draw on them
    # Each StatBank source's answer sliced to this municipality (aggregate counts, not yet
    # validated), or why it failed; empty where `sources` holds no StatBank source.
    statbank: dict[str, SourceResult] = field(default_factory=dict)
    several: bool = False  # one of several municipalities in this run: steps are named by code
    verbose: bool = False  # a worker's log lines on its terminal too


@dataclass
class MunicipalityPart:
    """What one municipality's sources contribute to the load: aggregates and records only."""

    municipality_code: str
    results: dict[str, SourceResult] = field(default_factory=dict)  # staged tables dropped
    observations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=KEY))
    computed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # filled where it ran elsewhere


def landing_for(landing_dir: Path, municipality_code: str, several: bool) -> Path:
    """`landing/<code>/…` when that folder exists; else, for a single municipality, the
    single-municipality layout `landing/<source>/…` (so existing landing zones keep working)."""
    own = Path(landing_dir) / municipality_code
    return own if own.is_dir() or several else Path(landing_dir)


def dependencies(source: str) -> list[str]:
    """The other sources whose tables `source`'s indicators need (3.1 needs employment's), from
    the catalogue: importing the transforms to ask them would cost seconds a rerun need not pay."""
    catalogue = load_catalogue()
    needed = {s for code in catalogue.indicators_of(source) for s in catalogue.sources_of(code)}
    return sorted(needed - {source})


def run_municipality(work: MunicipalityWork, steps: LocalSteps, given_key: str | None) -> MunicipalityPart:
    """Ingest and compute `work.sources` for one municipality, one source after the other: a
    source's person-level tables are dropped as soon as its observations exist and no later
    source draws on them, so memory holds one source at a time. A source whose checksum matches
    the last load's is not read: its stored outcome is reported again. The key is the one given
    to the run (the demo's), else looked up in the environment of the process this runs in (or
    the Secret block); it is never carried in `work`."""
    key = pseudonym_key(os.environ, given_key)
    part, frames = MunicipalityPart(work.municipality_code), []
    for index, source in enumerate(work.sources):
        if source in work.statbank:
            result = statbank_source(steps, work, part, source, key.version)
        else:
            result = file_source(steps, work, part, source, key)
        part.results[source] = result
        if not result.reused:
            frames.append(compute_source(steps, part, work, source))
        still_needed = {needed for later in work.sources[index + 1 :] for needed in dependencies(later)}
        for name in set(part.results) - still_needed:
            part.results[name] = replace(part.results[name], staged=[])
    frames = [frame for frame in frames if not frame.empty]
    if frames:
        part.observations = pd.concat(frames, ignore_index=True)
    return part


def file_source(
    steps: LocalSteps, work: MunicipalityWork, part: MunicipalityPart, source: str, key: PseudonymKey
) -> SourceResult:
    """One file source's deliveries read, validated and staged, unless its checksum is unchanged;
    either way the result carries the checksums the next refresh may trust."""
    code = work.municipality_code
    inputs = {needed: part.fingerprints.get(needed) for needed in dependencies(source)}
    stored = SourceResult.from_outcome(source, work.stored[source][1]) if source in work.stored else None
    with steps.context.timings.stage("read"):
        deliveries = source_deliveries(source, work.landing_dir, stored.checksums if stored else None)
    checksums = {d.name: [d.identity, d.sha256] for d in deliveries if d.identity}
    part.fingerprints[source] = checksum = fingerprint(source, deliveries, work.until, code, key.version, inputs)
    if stored and work.stored[source][0] == checksum:
        steps.notice(f"{_label(work, source)}: inputs unchanged since the last load, not read again")
        return replace(stored, checksums=checksums)
    if not deliveries:
        folder = work.landing_dir / landing_folder(source)
        steps.logger.warning("%s: no delivery in %s", _label(work, source), folder)
        return SourceResult(source)
    result, _ = steps.run(
        f"ingest {_label(work, source)}",
        "read",
        lambda: ingest_file_source(source, deliveries, key, code, work.until, steps.context),
    )
    return replace(result or SourceResult(source), checksums=checksums)


def statbank_source(
    steps: LocalSteps, work: MunicipalityWork, part: MunicipalityPart, source: str, key_version: str
) -> SourceResult:
    """A StatBank source's cells for this municipality: reused when they are what its last load computed
    from (checksummed by content, so another municipality's cells changing does not count),
    else each table validated here (Great Expectations runs in the thread doing this work). A
    table that failed, to fetch or to validate, is rejected by name; the others publish."""
    answer = work.statbank[source]
    if not answer.staged:  # every table failed: their rejections are reported, old values stand
        return answer
    answered = [replace(s.delivery, sha256=content_checksum(s), modified=0.0) for s in answer.staged]
    failed = [Delivery(source, None, row["name"], "", 0.0) for row in answer.deliveries if row["status"] == "rejected"]
    failed = [replace(d, problem=DeliveryError(d.name, "table answers")) for d in failed]
    checksum = fingerprint(source, answered + failed, work.until, work.municipality_code, key_version, {})
    part.fingerprints[source] = checksum
    if work.stored.get(source, ("",))[0] == checksum:
        # Its observations stand; its cells stay at hand for a source recomputed from them (3.1).
        reused = SourceResult.from_outcome(source, work.stored[source][1])
        loaded = {row["name"] for row in reused.deliveries if row["status"] == "loaded"}
        return replace(reused, staged=[s for s in answer.staged if s.delivery.name in loaded])
    result = SourceResult(
        source, deliveries=[row for row in answer.deliveries if row["status"] == "rejected"], errors=list(answer.errors)
    )
    accepted = []
    for staged in answer.staged:
        _, error = steps.run(
            f"validate {_label(work, staged.delivery.name)}",
            "validate",
            partial(validate_statbank, source, staged, steps.context),
        )
        if error:
            reject(result, staged.delivery, error, None)
        else:
            accepted.append(staged)
    stage(result, accepted, work.until)
    return result


def content_checksum(staged: StagedDelivery) -> str:
    """A checksum of a staged delivery's cells, whatever else the answer that carried them held."""
    digest = hashlib.sha256(staged.delivery.name.encode())
    for name, table in sorted(staged.tables.items()):
        digest.update(name.encode())
        digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def indicators(
    source: str, results: dict[str, SourceResult], municipality_code: str, timings: StageTimings
) -> pd.DataFrame:
    """A source's indicators from its tables (plus any other source's tables they need), with
    lineage and disclosure control; indicators whose other sources failed are left out."""
    transform, catalogue = by_name(source).transform(), load_catalogue()
    usable = [code for code in transform.INDICATORS if all(results[s].staged for s in catalogue.sources_of(code))]
    if not usable:
        return pd.DataFrame()
    tables = {}
    for needed in {s for code in usable for s in catalogue.sources_of(code)}:
        tables.update(results[needed].tables())
    with timings.stage("compute"):
        observations = transform.compute(tables, municipality_code)
    observations = observations[observations["indicator_code"].isin(usable)]
    disclosure = source_config("disclosure")
    with timings.stage("suppress"):
        observations = suppress(observations, disclosure["min_persons"], disclosure["partitions"])
    lineage = results[source].delivery_of()
    observations["delivery_id"] = observations["reference_date"].map(lineage)
    return observations


def compute_source(steps: LocalSteps, part: MunicipalityPart, work: MunicipalityWork, source: str) -> pd.DataFrame:
    """A recomputed source's observations; a failing transform is reported and the source's old
    values kept."""
    frame, failure = steps.run(
        f"compute {_label(work, source)} indicators",
        "compute",
        lambda: indicators(source, part.results, work.municipality_code, steps.context.timings),
    )
    if failure:
        part.failures.append(failure.summary())
        return pd.DataFrame()
    part.computed.append(source)
    return frame


def _label(work: MunicipalityWork, source: str) -> str:
    """'grades' for a single municipality's run, '147 grades' where several run."""
    return f"{work.municipality_code} {source}" if work.several else source
