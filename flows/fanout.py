"""Where each municipality's work runs: in the refresh's own process (one municipality), in local
worker processes bounded by the machine's cores (several), or on a Dask cluster (an existing one
by address, or a local one started for the run).

Whatever the place, a worker gets a `MunicipalityWork` (settings, checksums, StatBank's counts:
no person-level data, no key) and returns a `MunicipalityPart` (aggregates and delivery records).
Person-level tables never leave the worker. In a Prefect run each municipality is a task run on
a Prefect task runner (prefect-dask's `DaskTaskRunner` for a cluster); in a local run the same
work goes to a `concurrent.futures` pool or a `dask.distributed` client.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from barometer.config import Settings
from barometer.flows.municipality import MunicipalityPart, MunicipalityWork, run_municipality
from barometer.flows.steps import LocalSteps, quiet_logs, unexpected
from barometer.sources.errors import MissingKeyError

from barometer import timing


def work_elsewhere(work: MunicipalityWork) -> MunicipalityPart:
    """`run_municipality` as a worker runs it: its stage times travel back with the result, and
    nothing but a message (never an exception object, which might quote a cell) reports a crash."""
    quiet_logs()
    before = timing.totals()
    try:
        part = run_municipality(work)
    except Exception as error:  # noqa: BLE001 - one municipality's crash must not stop the others
        part = MunicipalityPart(work.municipality_code, failures=[_crash(work, error)])
    after = timing.totals()
    part.timings = {stage: after[stage] - before.get(stage, 0.0) for stage in after}
    return part


def _crash(work: MunicipalityWork, error: BaseException) -> str:
    if isinstance(error, MissingKeyError):  # its message is safe and says what to do
        return f"municipality {work.municipality_code}: the worker has no pseudonym key. {error}"
    return unexpected(f"municipality {work.municipality_code}", error).summary()


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass
class Placement:
    """How the municipalities of one run are placed (from Settings / the CLI)."""

    dask_address: str | None = None
    dask_workers: int | None = None

    @classmethod
    def of(cls, settings: Settings) -> "Placement":
        return cls(settings.dask_address, settings.dask_workers)

    @property
    def on_dask(self) -> bool:
        return bool(self.dask_address or self.dask_workers)

    def describe(self, count: int) -> str:
        if self.dask_address:
            return f"on the Dask cluster at {self.dask_address}"
        if self.dask_workers:
            return f"on a local Dask cluster of {self.dask_workers} workers"
        if count > 1:
            return f"in {min(count, cores())} local worker processes"
        return "in this process"


class Pool:
    """Municipality work submitted somewhere; `collect` waits for a handle and gives its part."""

    def __init__(self, steps: LocalSteps, executor: Any = None, runner: Any = None) -> None:
        self.steps, self.executor, self.runner = steps, executor, runner

    def submit(self, work: MunicipalityWork) -> Any:
        if self.runner is not None:
            return self.runner.submit(_prefect_task(work), parameters={"work": work})
        if self.executor is not None:
            return self.executor.submit(work_elsewhere, work)
        return run_municipality(work, self.steps)  # here and now: its steps show as they run

    def collect(self, handle: Any, work: MunicipalityWork) -> MunicipalityPart:
        if isinstance(handle, MunicipalityPart):
            return handle
        try:
            part = handle.result()
        except Exception as error:  # noqa: BLE001 - a worker died: that municipality failed, not the run
            part = MunicipalityPart(work.municipality_code, failures=[_crash(work, error)])
        for stage, seconds in part.timings.items():
            timing.record(stage, seconds)
        return part


def _prefect_task(work: MunicipalityWork):
    """One municipality as a task run, named by its code (no caching, no stored result)."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    name = f"refresh municipality {work.municipality_code}"
    return task(name=name, task_run_name=name, cache_policy=NO_CACHE, persist_result=False)(work_elsewhere)


@contextmanager
def municipality_pool(steps: LocalSteps, placement: Placement, count: int, prefect: bool) -> Iterator[Pool]:
    """A pool for `count` municipalities: this process for one (unless a Dask cluster is asked
    for), else local processes or Dask; Prefect task runners in a Prefect run."""
    with ExitStack() as stack:
        if not placement.on_dask and count <= 1:
            yield Pool(steps)
        elif prefect:
            yield Pool(steps, runner=stack.enter_context(_prefect_runner(placement, count)))
        else:
            yield Pool(steps, executor=stack.enter_context(_executor(placement, count)))


def _prefect_runner(placement: Placement, count: int):
    if placement.on_dask:
        from prefect_dask import DaskTaskRunner

        if placement.dask_address:
            return DaskTaskRunner(address=placement.dask_address)
        return DaskTaskRunner(cluster_kwargs=_local_cluster_options(placement.dask_workers))
    from prefect.task_runners import ProcessPoolTaskRunner

    return ProcessPoolTaskRunner(max_workers=min(count, cores()))


@contextmanager
def _executor(placement: Placement, count: int):
    if placement.on_dask:
        from distributed import Client, LocalCluster

        with ExitStack() as stack:
            if placement.dask_address:
                client = stack.enter_context(Client(placement.dask_address))
            else:
                cluster = stack.enter_context(LocalCluster(**_local_cluster_options(placement.dask_workers)))
                client = stack.enter_context(Client(cluster))
            yield client
        return
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the refresh's process has threads (the StatBank fetch) and open connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(count, cores()), mp_context=context) as pool:
        yield pool


def _local_cluster_options(workers: int | None) -> dict[str, Any]:
    """One thread per worker process: a municipality's work is pandas, which holds the GIL, and
    Great Expectations' context is not for several threads at once."""
    return {"n_workers": workers or cores(), "threads_per_worker": 1, "processes": True, "dashboard_address": None}
