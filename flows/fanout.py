"""Where each municipality's work runs: in the refresh's own process (one municipality), in local
worker processes bounded by the machine's cores (several), or on a Dask cluster (an existing one
by address, or a local one started for the run).

Whatever the place, a worker gets a `MunicipalityWork` (its landing zone, checksums, StatBank's counts:
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
from typing import Any

from barometer.config import Placement
from barometer.flows.context import RunContext
from barometer.flows.municipality import MunicipalityPart, MunicipalityWork, run_municipality
from barometer.flows.steps import LocalSteps, quiet_logs, unexpected
from barometer.sources.errors import MissingKeyError


def work_elsewhere(work: MunicipalityWork, given_key: str | None = None) -> MunicipalityPart:
    """`run_municipality` as a worker runs it, in a context of its own: its stage times travel
    back with the result, and nothing but a message (never an exception object, which might
    quote a cell) reports a crash. `given_key` is a key given to the run itself (the demo's),
    handed to local worker processes only; elsewhere the worker looks its key up."""
    quiet_logs(work.verbose)
    context = RunContext()
    steps = LocalSteps(context)
    try:
        part = run_municipality(work, steps, given_key)
    except Exception as error:  # noqa: BLE001 - one municipality's crash must not stop the others
        part = MunicipalityPart(work.municipality_code, failures=[_crash(work, error)])
    finally:
        steps.close()
    part.timings = context.timings.totals()
    return part


def _crash(work: MunicipalityWork, error: BaseException) -> str:
    if isinstance(error, MissingKeyError):  # its message is safe and says what to do
        return f"municipality {work.municipality_code}: the worker has no pseudonym key. {error}"
    return unexpected(f"municipality {work.municipality_code}", error).summary()


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def describe(placement: Placement, count: int) -> str:
    """Where `count` municipalities run, for the run's notice."""
    if placement.dask_address:
        return f"on the Dask cluster at {placement.dask_address}"
    if placement.dask_workers:
        return f"on a local Dask cluster of {placement.dask_workers} workers"
    if count > 1:
        return f"in {min(count, cores())} local worker processes"
    return "in this process"


class Pool:
    """Municipality work submitted somewhere; `collect` waits for a handle and gives its part."""

    def __init__(self, steps: LocalSteps, given_key: str | None, executor: Any = None, runner: Any = None) -> None:
        """`given_key`: a key given to the run itself (the demo's), for work in this process or
        its local worker processes; never a task parameter."""
        self.steps, self.given_key, self.executor, self.runner = steps, given_key, executor, runner

    def submit(self, work: MunicipalityWork) -> Any:
        if self.runner is not None:
            return self.runner.submit(_prefect_task(work), parameters={"work": work})
        if self.executor is not None:
            return self.executor.submit(work_elsewhere, work, self.given_key)
        return run_municipality(work, self.steps, self.given_key)  # here and now: its steps show as they run

    def collect(self, handle: Any, work: MunicipalityWork) -> MunicipalityPart:
        if isinstance(handle, MunicipalityPart):
            return handle
        try:
            part = handle.result()
        except Exception as error:  # noqa: BLE001 - a worker died: that municipality failed, not the run
            part = MunicipalityPart(work.municipality_code, failures=[_crash(work, error)])
        for stage, seconds in part.timings.items():
            self.steps.context.timings.record(stage, seconds)
        return part


def _prefect_task(work: MunicipalityWork):
    """One municipality as a task run, named by its code (no caching, no stored result)."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    name = f"refresh municipality {work.municipality_code}"
    return task(name=name, task_run_name=name, cache_policy=NO_CACHE, persist_result=False)(work_elsewhere)


@contextmanager
def municipality_pool(
    steps: LocalSteps, placement: Placement, count: int, prefect: bool, given_key: str | None
) -> Iterator[Pool]:
    """A pool for `count` municipalities: this process for one (unless a Dask cluster is asked
    for), else local processes or Dask; Prefect task runners in a Prefect run."""
    with ExitStack() as stack:
        if not placement.on_dask and count <= 1:
            yield Pool(steps, given_key)
        elif prefect:
            yield Pool(steps, None, runner=stack.enter_context(_prefect_runner(placement, count)))
        else:
            key = None if placement.dask_address else given_key  # never sent to a cluster elsewhere
            yield Pool(steps, key, executor=stack.enter_context(_executor(placement, count)))


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
