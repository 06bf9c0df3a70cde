"""Backfill as the Prefect flow `barometer-backfill`: every edition in a range, oldest first, each
a barometer-refresh subflow exactly as the schedule runs it (flows/pipeline.py `backfill` is the
same without Prefect)."""

from __future__ import annotations

from barometer.config import Edition
from barometer.flows.context import RunContext
from barometer.flows.pipeline import BackfillReport
from barometer.flows.refresh import refresh_flow
from barometer.flows.steps import final_state
from prefect import flow, get_run_logger
from prefect.states import Completed, Failed


@flow(
    name="barometer-backfill",
    flow_run_name="backfill-{first}-to-{last}",
    validate_parameters=False,
    persist_result=False,
)
def barometer_backfill(
    first: str,
    last: str,
    landing: str | None = None,
    warehouse: str | None = None,
    statbank_url: str | None = None,
    municipality: str | None = None,
    dask_address: str | None = None,
    dask_workers: int | None = None,
    verbose: bool | None = None,
):
    """Refresh every half-yearly edition from `first` to `last` (e.g. '2011-S1' to '2012-S2'),
    oldest first, each as a barometer-refresh subflow exactly as the schedule runs it.

    A failed edition does not stop the others (each loads on its own); the backfill then ends
    Failed naming it. Deliveries are read and validated once for the whole range.

    Args:
        first: The first edition, e.g. '2011-S1'.
        last: The last edition, included, e.g. '2012-S2'.
        landing: The landing zone; empty: BAROMETER_LANDING_DIR.
        warehouse: SQLAlchemy URL of the warehouse; empty: BAROMETER_WAREHOUSE_URL.
        statbank_url: Base URL of the StatBank API; empty: BAROMETER_STATBANK_URL.
        municipality: A code, several ('101,147') or 'all'; empty: BAROMETER_MUNICIPALITY.
        dask_address: A Dask scheduler to run the municipalities on; empty: BAROMETER_DASK_ADDRESS.
        dask_workers: Workers of a local Dask cluster for the run; empty: BAROMETER_DASK_WORKERS.
        verbose: Log lines on the terminal too; empty: BAROMETER_VERBOSE.
    """
    report = BackfillReport()
    edition_refresh = refresh_flow(RunContext.across_editions())  # its editions share what was read
    for edition in Edition.range(Edition.parse(first), Edition.parse(last)):
        state = final_state(
            edition_refresh(
                edition.code,
                landing,
                warehouse,
                statbank_url,
                municipality,
                dask_address,
                dask_workers,
                verbose,
                return_state=True,
            )
        )
        report.add(edition.code, state.message or str(state.name), state.is_completed())
    get_run_logger().info(report.text())
    if report.failed:
        return Failed(message=report.text(), data=report)
    return Completed(message=report.text(), data=report)
