"""The refresh as the Prefect flow `barometer-refresh`: what deployments schedule and a Prefect
server shows. The pipeline itself is flows/pipeline.py; each of its steps is a task run here.

The flow's parameters (and, for what they leave unset, the BAROMETER_* environment of the
process it runs in) make its run request. It runs in a `RunContext`: its own, or the one of the
run that calls it (a backfill's, shared by its editions; the CLI's, whose stage timings it adds to).
"""

from __future__ import annotations

import os
import uuid

from barometer.config import Edition, RunRequest
from barometer.config.run import pseudonym_key
from barometer.flows.context import RunContext
from barometer.flows.pipeline import refresh
from barometer.flows.steps import PrefectSteps
from barometer.warehouse.database import WarehouseUnavailable
from barometer.warehouse.lock import WarehouseBusy
from prefect import Flow, State, flow
from prefect.runtime import flow_run
from prefect.states import Completed, Failed


def run_name() -> str:
    """'refresh-2012-S2' in the UI, scheduled runs included (not 'refresh-None')."""
    return f"refresh-{flow_run.parameters.get('edition') or Edition.default()}"


def refresh_flow(context: RunContext | None = None) -> Flow:
    """The barometer-refresh flow, run in `context` (None: a context of its own per run)."""

    def barometer_refresh(
        edition: str | None = None,
        landing: str | None = None,
        warehouse: str | None = None,
        statbank_url: str | None = None,
        municipality: str | None = None,
        dask_address: str | None = None,
        dask_workers: int | None = None,
        verbose: bool | None = None,
    ) -> State:
        """Refresh one half-yearly edition (e.g. '2012-S2'; default: the latest complete
        half-year) from the landing zone and StatBank.

        Options left unset fall back to BAROMETER_* environment variables; `municipality` is a
        code, several ('101,147') or 'all'. Ends Failed (after loading everything that was good)
        when any delivery was rejected.
        """
        request = RunRequest.build(
            os.environ,
            edition=edition,
            landing_dir=landing,
            warehouse_url=warehouse,
            statbank_url=statbank_url,
            municipalities=municipality,
            dask_address=dask_address,
            dask_workers=dask_workers,
            verbose=verbose,
        )
        return run_refresh(request, context or RunContext())

    return flow(name="barometer-refresh", flow_run_name=run_name, validate_parameters=False, persist_result=False)(
        barometer_refresh
    )


def run_refresh(request: RunRequest, context: RunContext) -> State:
    """The refresh as this flow run's body: its final state carries the report."""
    pseudonym_key({}, request.pseudonym_secret)  # refuse before anything is read when the key is missing
    steps = PrefectSteps(context)
    try:
        report = refresh(request, steps, run_id=str(flow_run.id or uuid.uuid4()))
    except (WarehouseBusy, WarehouseUnavailable) as fault:
        return Failed(message=str(fault), data=fault)
    finally:
        steps.close()
    return (Failed if report.failed else Completed)(message=report.text(), data=report)


barometer_refresh = refresh_flow()
