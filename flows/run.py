"""A refresh or backfill as the CLI and the demo start it: as a Prefect flow when a Prefect API
is configured (or BAROMETER_ORCHESTRATION=prefect), else in this process with plain steps. What
went wrong is a `RunFailed`: the one paragraph the CLI prints, and its exit code."""

from __future__ import annotations

import time

from barometer.config import Edition, RunRequest
from barometer.flows.context import RunContext
from barometer.flows.steps import LocalSteps, final_state, quiet_logs, use_prefect

import barometer
from barometer.progress import Progress


class RunFailed(Exception):
    """A run that could not do what was asked: `message` says what to do, `code` is the exit code
    (2: usage, 1: the run failed)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def require_key(request: RunRequest) -> None:
    """Refuse before a run starts when neither the run, the variable nor the Secret block holds
    the key."""
    from barometer.config.run import pseudonym_key
    from barometer.sources.errors import MissingKeyError

    try:
        pseudonym_key({}, request.pseudonym_secret)  # the variable is in the request already
    except MissingKeyError as error:
        raise RunFailed(str(error), 2) from None
    except Exception as error:  # the Secret block lookup needs the Prefect API
        raise RunFailed(
            f"BAROMETER_PSEUDONYM_KEY is not set and its Prefect Secret block could not be read "
            f"({type(error).__name__}). Set BAROMETER_PSEUDONYM_KEY, or check PREFECT_API_URL.",
            2,
        ) from None


def orchestrated_by_prefect(request: RunRequest, advice: str) -> bool:
    """Whether the run is a Prefect flow run (then a temporary Prefect server, if one is started,
    must not outlive this process, even killed); `advice` ends the message of a bad setting."""
    try:
        prefect = use_prefect(request.orchestration)
    except ValueError as error:
        raise RunFailed(f"{error}. {advice}", 2) from None
    if prefect:
        from barometer.flows.prefect_server import tie_temporary_server

        tie_temporary_server()
    return prefect


def refresh(request: RunRequest, context: RunContext):
    """Run the refresh; returns its report, or raises RunFailed with a one-paragraph explanation."""
    from barometer.warehouse.database import WarehouseUnavailable, check_writable

    prefect = orchestrated_by_prefect(
        request,
        "Give the edition as YEAR-S1 (January-June) or YEAR-S2 (July-December); "
        "BAROMETER_ORCHESTRATION as auto, prefect or local.",
    )
    require_key(request)
    try:
        check_writable(request.warehouse_url)  # before anything is read or a Prefect server starts
        report = (refresh_with_prefect if prefect else refresh_locally)(request, context)
    except RunFailed:
        raise
    except WarehouseUnavailable as error:
        raise RunFailed(str(error)) from None
    except Exception as error:  # the machinery itself failed: explain, don't dump a traceback
        raise RunFailed(
            f"The refresh of {request.edition} could not run: {type(error).__name__}: {error}. "
            "Nothing was written to the warehouse. Check the options and the log above."
        ) from None
    if report.failed:
        raise RunFailed(report.text())
    return report


def refresh_locally(request: RunRequest, context: RunContext):
    from barometer.flows.pipeline import refresh as run_refresh
    from barometer.warehouse.database import WarehouseUnavailable
    from barometer.warehouse.lock import WarehouseBusy

    context.timings.record("imports", time.perf_counter() - barometer.STARTED)
    quiet_logs(request.verbose)
    progress = Progress()
    steps = LocalSteps(context, progress)
    try:
        with progress.live(f"Refreshing {request.edition} …"):
            return run_refresh(request, steps)
    except (WarehouseBusy, WarehouseUnavailable) as fault:
        raise RunFailed(str(fault)) from None
    finally:
        steps.close()
        context.timings.write_if_requested(request.stage_timings)


def refresh_with_prefect(request: RunRequest, context: RunContext):
    from barometer.flows.refresh import refresh_flow
    from barometer.warehouse.database import WarehouseUnavailable
    from barometer.warehouse.lock import WarehouseBusy

    context.timings.record("imports", time.perf_counter() - barometer.STARTED)
    with context.timings.stage("orchestration start"):
        state = final_state(refresh_flow(context)(*flow_parameters(request, request.edition.code), return_state=True))
    context.timings.write_if_requested(request.stage_timings)
    report = state.result(raise_on_failure=False) if state.is_completed() or state.is_failed() else None
    if isinstance(report, (WarehouseBusy, WarehouseUnavailable)):
        raise RunFailed(str(report))
    if not hasattr(report, "text"):
        raise RunFailed(
            f"The refresh of {request.edition} ended {state.name}: {state.message}. Nothing of a failed "
            "load was written (the load is one transaction); see the Prefect log above for the cause."
        )
    return report


def flow_parameters(request: RunRequest, *editions: str) -> tuple:
    """The request as the flows' parameters (after the edition or editions): what is not among
    them, the flow reads from the same environment."""
    placement = request.placement
    return (
        *editions,
        str(request.landing_dir),
        request.warehouse_url,
        request.statbank.url,
        ",".join(request.municipalities),
        placement.dask_address,
        placement.dask_workers,
        request.verbose,
    )


def backfill(request: RunRequest, first: str, last: str) -> str:
    """Every edition from `first` to `last` (the request's own edition aside); returns the
    backfill's summary, or raises RunFailed."""
    advice = (
        "Give editions as YEAR-S1 or YEAR-S2, --from no later than --to; "
        "BAROMETER_ORCHESTRATION as auto, prefect or local."
    )
    try:
        editions = Edition.range(Edition.parse(first), Edition.parse(last))
    except ValueError as error:
        raise RunFailed(f"{error}. {advice}", 2) from None
    prefect = orchestrated_by_prefect(request, advice)  # before the key lookup, which may ask it
    require_key(request)
    try:
        if prefect:
            return backfill_with_prefect(request, first, last)
        return backfill_locally(request, editions)
    except RunFailed:
        raise
    except Exception as error:  # the machinery itself failed: explain, don't dump a traceback
        raise RunFailed(
            f"The backfill could not run: {type(error).__name__}: {error}. Check the options and "
            "PREFECT_API_URL; editions already refreshed stay loaded."
        ) from None


def backfill_locally(request: RunRequest, editions: list[Edition]) -> str:
    from barometer.flows.pipeline import backfill as run_backfill

    quiet_logs(request.verbose)
    progress = Progress()
    steps = LocalSteps(RunContext.across_editions(), progress)
    try:
        with progress.live(f"Backfilling {editions[0]} to {editions[-1]} …"):
            report = run_backfill(request, editions, steps, progress.note)
    finally:
        steps.close()
    if report.failed:
        raise RunFailed(report.text())
    return report.text()


def backfill_with_prefect(request: RunRequest, first: str, last: str) -> str:
    from barometer.flows.backfill import barometer_backfill

    state = final_state(barometer_backfill(*flow_parameters(request, first, last), return_state=True))
    if not state.is_completed():
        raise RunFailed(state.message or f"The backfill ended {state.name}; see the Prefect log above.")
    return state.message or ""  # a completed backfill's message is its report
