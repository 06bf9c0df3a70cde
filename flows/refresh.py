"""The refresh as the Prefect flow `barometer-refresh`: what deployments schedule and a Prefect
server shows. The pipeline itself is flows/pipeline.py; each of its steps is a task run here."""

from __future__ import annotations

import uuid

from barometer.config import Settings, edition_or_default
from barometer.flows.ingest import pseudonym_key
from barometer.flows.pipeline import refresh
from barometer.flows.steps import PrefectSteps
from barometer.warehouse.database import WarehouseUnavailable
from barometer.warehouse.lock import WarehouseBusy
from prefect import State, flow
from prefect.runtime import flow_run
from prefect.states import Completed, Failed


def run_name() -> str:
    """'refresh-2012-S2' in the UI, scheduled runs included (not 'refresh-None')."""
    return f"refresh-{edition_or_default(flow_run.parameters.get('edition'))}"


@flow(name="barometer-refresh", flow_run_name=run_name, validate_parameters=False, persist_result=False)
def barometer_refresh(
    edition: str | None = None,
    landing: str | None = None,
    warehouse: str | None = None,
    statbank_url: str | None = None,
    municipality: str | None = None,
) -> State:
    """Refresh one half-yearly edition (e.g. '2012-S2'; default: the latest complete half-year)
    from the landing zone and StatBank.

    Options left unset fall back to BAROMETER_* environment variables; `municipality` is a code,
    several ('101,147') or 'all'. Ends Failed (after loading everything that was good) when any
    delivery was rejected.
    """
    settings = Settings.from_env(
        landing_dir=landing, warehouse_url=warehouse, statbank_url=statbank_url, municipality_codes=municipality
    )
    pseudonym_key()  # refuse before anything is read when the key is missing
    steps = PrefectSteps()
    try:
        report = refresh(edition, settings, steps, run_id=str(flow_run.id or uuid.uuid4()))
    except (WarehouseBusy, WarehouseUnavailable) as fault:
        return Failed(message=str(fault), data=fault)
    finally:
        steps.close()
    return (Failed if report.failed else Completed)(message=report.text(), data=report)
