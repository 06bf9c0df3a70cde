"""Deployments as code: the half-yearly schedule and the on-demand backfill.

`register()` creates the process work pool if it is missing and creates or updates both
deployments on the Prefect server that PREFECT_API_URL points at; running it again changes
nothing. The deployments run the flows from this checkout (a `set_working_directory` pull step),
so the worker must run on a machine with this project installed, as in `.venv`.
"""

from __future__ import annotations

from pathlib import Path

from prefect import deploy, flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.deployments.runner import RunnerDeployment
from prefect.exceptions import ObjectAlreadyExists
from prefect.schedules import Cron
from prefect.settings import get_current_settings
from prefect.workers.process import ProcessWorker

PROJECT_DIR = Path(__file__).resolve().parents[1]
WORK_POOL = "barometer"
TIME_ZONE = "Europe/Copenhagen"
# 15 March 06:00 refreshes the S2 edition (the autumn deliveries and StatBank's Q3 should be in);
# 15 September 06:00 refreshes S1 (June exams, Q1). The refresh defaults its edition to the
# latest complete half-year at run time, so one cron serves both. README: why these dates.
HALF_YEARLY = "0 6 15 3,9 *"


class DeployError(Exception):
    """Deployment is impossible as configured; the message says what to do."""


def api_url() -> str:
    """The server to deploy to. Without PREFECT_API_URL Prefect would start a throwaway server
    that no worker ever polls, so that is refused."""
    url = get_current_settings().api.url
    if not url:
        raise DeployError(
            "PREFECT_API_URL is not set, so there is no Prefect server to deploy to. Start one "
            "(`prefect server start`) and point at it: "
            "`export PREFECT_API_URL=http://127.0.0.1:4200/api`, then run `barometer deploy` again."
        )
    return url


def ensure_work_pool() -> bool:
    """Create the process work pool unless it exists; True when it was created."""
    with get_client(sync_client=True) as client:
        unhealthy = client.api_healthcheck()
        if unhealthy:
            raise DeployError(
                f"The Prefect server at {api_url()} does not answer ({unhealthy}). Check "
                "that `prefect server start` is running and PREFECT_API_URL is right."
            )
        try:
            client.create_work_pool(
                WorkPoolCreate(
                    name=WORK_POOL,
                    type=ProcessWorker.type,
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                    description="Runs barometer flows as local processes in the project's environment.",
                )
            )
        except ObjectAlreadyExists:
            return False
    return True


def deployments() -> list[RunnerDeployment]:
    """barometer-refresh/half-yearly and barometer-backfill/on-demand, their flows loaded from
    this checkout."""
    refresh = flow.from_source(source=str(PROJECT_DIR), entrypoint="flows/refresh.py:barometer_refresh")
    backfill = flow.from_source(source=str(PROJECT_DIR), entrypoint="flows/backfill.py:barometer_backfill")
    return [
        refresh.to_deployment(  # type: ignore[union-attr,list-item]  # Prefect's stub: sync or a coroutine
            name="half-yearly",
            schedules=[Cron(HALF_YEARLY, timezone=TIME_ZONE)],
            description="The half-yearly refresh: S2 on 15 March, S1 on 15 September, 06:00 "
            "Copenhagen time. Parameters left empty fall back to the worker's "
            "BAROMETER_* environment; the edition to the latest complete half-year.",
        ),
        backfill.to_deployment(  # type: ignore[union-attr,list-item]  # Prefect's stub: sync or a coroutine
            name="on-demand",
            description="Refresh every edition from `first` to `last` (e.g. 2011-S1 to 2012-S2), "
            "oldest first, each as the scheduled refresh would.",
        ),
    ]


def schedule_text(deployment: RunnerDeployment) -> str:
    return (
        "; ".join(
            f"cron '{s.schedule.cron}' in {s.schedule.timezone}"  # type: ignore[union-attr]  # deployments(): cron only
            for s in deployment.schedules or []
        )
        or "no schedule, run on demand"
    )


def register() -> list[str]:
    """Create the work pool if missing and create or update both deployments; lines to print."""
    url = api_url()
    created = ensure_work_pool()
    registered = deployments()
    deploy(
        *registered,
        work_pool_name=WORK_POOL,
        build=False,
        push=False,
        print_next_steps_message=False,
        ignore_warnings=True,
    )
    return [
        f"Prefect server: {url}",
        f"Work pool '{WORK_POOL}' (process): {'created' if created else 'already there'}",
        *(f"Deployment {d.flow_name}/{d.name}: {schedule_text(d)}" for d in registered),
        f"Start a worker where the landing zone and BAROMETER_PSEUDONYM_KEY are: "
        f"prefect worker start --pool {WORK_POOL}",
    ]
