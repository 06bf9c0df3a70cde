"""Backfill as the Prefect flow `barometer-backfill`: every edition in a range, oldest first, each
a barometer-refresh subflow exactly as the schedule runs it (flows/pipeline.py `backfill` is the
same without Prefect)."""

from __future__ import annotations

from barometer.config import editions_between
from barometer.flows.ingest import reuse_staged
from barometer.flows.pipeline import BackfillReport
from barometer.flows.refresh import barometer_refresh
from prefect import State, flow, get_run_logger
from prefect.states import Completed, Failed


@flow(
    name="barometer-backfill",
    flow_run_name="backfill-{first}-to-{last}",
    validate_parameters=False,
    persist_result=False,
)
def barometer_backfill(
    first: str, last: str, landing: str | None = None, warehouse: str | None = None, statbank_url: str | None = None
) -> State:
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
    """
    report = BackfillReport()
    with reuse_staged():
        for edition in editions_between(first, last):
            state = barometer_refresh(edition, landing, warehouse, statbank_url, return_state=True)
            report.add(edition, state.message or str(state.name), state.is_completed())
    get_run_logger().info(report.text())
    if report.failed:
        return Failed(message=report.text(), data=report)
    return Completed(message=report.text(), data=report)
