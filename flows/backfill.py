"""Backfill: every edition in a range, oldest first, each exactly as the scheduled refresh."""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed, State

from barometer.config import editions_between
from barometer.flows.ingest import reuse_staged
from barometer.flows.refresh import barometer_refresh


@dataclass
class BackfillReport:
    """Each edition's outcome, in the order they ran."""

    outcomes: dict[str, str] = field(default_factory=dict)  # edition -> the refresh's message
    failed: list[str] = field(default_factory=list)

    def add(self, edition: str, state: State) -> None:
        self.outcomes[edition] = state.message or state.name
        if not state.is_completed():
            self.failed.append(edition)

    def text(self) -> str:
        editions = list(self.outcomes)
        lines = [f"Backfill {editions[0]} to {editions[-1]}: {len(editions) - len(self.failed)} of "
                 f"{len(editions)} editions refreshed."]
        lines += self.outcomes.values()
        if self.failed:
            lines.append(f"Failed: {', '.join(self.failed)}. Fix what the messages above name, then "
                         f"refresh each again (`barometer refresh --edition ...`) or rerun the backfill.")
        return "\n".join(lines)


@flow(name="barometer-backfill", flow_run_name="backfill-{first}-to-{last}", validate_parameters=False,
      persist_result=False)
def barometer_backfill(first: str, last: str, landing: str | None = None, warehouse: str | None = None,
                       statbank_url: str | None = None):
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
            report.add(edition, barometer_refresh(edition, landing, warehouse, statbank_url, return_state=True))
    get_run_logger().info(report.text())
    if report.failed:
        return Failed(message=report.text(), data=report)
    return Completed(message=report.text(), data=report)
