"""How a refresh's steps run: as Prefect tasks, or as plain calls in this process.

The pipeline is written once, against `Steps`. With a Prefect API (a server, Prefect Cloud, a
deployment's worker) each step is a task run that the UI shows; without one, a local CLI run calls
the same steps directly, so it does not pay for starting a temporary Prefect server (seconds of
CPU, more than the work itself at Copenhagen's size).

A step is a function without arguments (a closure): nothing it works on becomes a task
parameter, so no person-level data or key can reach Prefect's records. It returns its value or
raises; a `DeliveryError` is the step's answer ("this delivery is rejected"), any other
exception is named by type and place only, since its message could quote a cell.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from barometer.config.run import prefect_api_configured
from barometer.sources.errors import DeliveryError

if TYPE_CHECKING:
    from barometer.flows.context import RunContext
    from prefect import State

Outcome = tuple[Any, DeliveryError | None]  # (value, None) or (None, why it failed)
ORCHESTRATIONS = ("auto", "prefect", "local")


class Submitted(Protocol):
    """A step under way (a thread's Future, or a Prefect task run): `.result()` waits for its Outcome."""

    def result(self) -> Outcome: ...


def use_prefect(orchestration: str) -> bool:
    """'prefect': always (a temporary server when no API is configured); 'local': never;
    'auto': when a Prefect API is configured, so its UI shows the run."""
    if orchestration not in ORCHESTRATIONS:
        raise ValueError(f"orchestration {orchestration!r} is not one of {', '.join(ORCHESTRATIONS)}")
    return orchestration == "prefect" or (orchestration == "auto" and prefect_api_configured())


def quiet_logs(verbose: bool) -> None:
    """A local run's (or a worker's) log lines go to the terminal only when verbose (--verbose,
    BAROMETER_VERBOSE=1): the summary at the end says what happened."""
    logger = logging.getLogger("barometer")
    if verbose and not logger.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(message)s")
    elif not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def unexpected(place: str, error: BaseException) -> DeliveryError:
    """An error nobody anticipated, named by type and place only: its message might quote a cell."""
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" in {Path(frame.filename).name} line {frame.lineno}" if frame else ""
    return DeliveryError(
        place,
        "delivery can be processed",
        detail=(
            f"unexpected {type(error).__name__}{where}; the message is withheld as it may hold personal "
            "data - reproduce with `barometer validate` on the file"
        ),
    )


def attempt(place: str, function: Callable[[], Any]) -> Outcome:
    try:
        return function(), None
    except DeliveryError as error:
        return None, error
    except Exception as error:  # noqa: BLE001 - one failing step must not stop the others
        return None, unexpected(place, error)


class LocalSteps:
    """Steps as plain calls; `submit` runs one beside the others in a thread."""

    prefect = False  # whether steps are Prefect task runs (and work elsewhere goes to a task runner)

    def __init__(self, context: RunContext, progress=None) -> None:
        """Steps count their time in `context`'s timings; `progress` (barometer.progress.Progress)
        hears of each step's start and end."""
        self.context = context
        self.logger: logging.Logger | logging.LoggerAdapter = logging.getLogger("barometer")
        self.progress = progress
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="barometer")

    def run(self, name: str, stage: str, function: Callable[[], Any]) -> Outcome:
        if self.progress:
            self.progress.started(name)
        with self.context.timings.stage(stage):
            value, error = attempt(name, function)
        if self.progress:
            self.progress.finished(name, failed=error is not None)
        return value, error

    def call(self, name: str, stage: str, function: Callable[[], Any]) -> Any:
        """A step whose errors are the run's own (the load: a busy or broken warehouse), run
        inline and raised as they are."""
        if self.progress:
            self.progress.started(name)
        with self.context.timings.stage(stage):
            value = function()
        if self.progress:
            self.progress.finished(name, failed=False)
        return value

    def notice(self, text: str) -> None:
        self.logger.info(text)
        if self.progress:
            self.progress.note(f" [dim]=[/dim] {text}")

    def submit(self, name: str, stage: str, function: Callable[[], Any]) -> Submitted:
        """Start a step now; `.result()` of the future is its Outcome."""
        return self._pool.submit(self.run, name, stage, function)

    def publish(self, edition, report) -> None:
        """Artifacts exist only where a Prefect API keeps them."""

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class PrefectSteps(LocalSteps):
    """Steps as Prefect task runs of the current flow run (never cached, never persisted)."""

    prefect = True

    def __init__(self, context: RunContext) -> None:
        from prefect import get_run_logger

        super().__init__(context)
        self.logger = get_run_logger()

    def _task(self, name: str, stage: str, function: Callable[[], Any]):
        from prefect import task
        from prefect.cache_policies import NO_CACHE
        from prefect.states import Failed

        def body():
            value, error = LocalSteps.run(self, name, stage, function)
            return Failed(message=error.summary(), data=error) if error else value

        return task(name=name, task_run_name=name, cache_policy=NO_CACHE, persist_result=False)(body)

    def run(self, name: str, stage: str, function: Callable[[], Any]) -> Outcome:
        return outcome(self._task(name, stage, function)(return_state=True), name)

    def submit(self, name: str, stage: str, function: Callable[[], Any]) -> Submitted:
        return _TaskRun(self._task(name, stage, function).submit(), name)

    def publish(self, edition, report) -> None:
        from barometer.flows.artifacts import publish_artifacts

        self.run("publish artifacts", "artifacts", lambda: publish_artifacts(edition, report))


class _TaskRun:
    """A submitted task run; `.result()` waits for it and gives its Outcome, like the Future
    `LocalSteps.submit` returns."""

    def __init__(self, prefect_future, name: str) -> None:
        self._future, self._name = prefect_future, name

    def result(self) -> Outcome:
        self._future.wait()
        return outcome(self._future.state, self._name)


def outcome(state, place: str) -> Outcome:
    """A task's value, or why it failed (a crash or timeout counts as a failure)."""
    value = state.result(raise_on_failure=False)
    if isinstance(value, DeliveryError):
        return None, value
    if isinstance(value, BaseException):
        return None, unexpected(place, value)
    return value, None


def final_state(returned: Any) -> State:
    """What a flow called with `return_state=True` returns: its final State (Prefect's stubs type
    the call as the flow's own return value, or an awaitable of it)."""
    return cast("State", returned)
