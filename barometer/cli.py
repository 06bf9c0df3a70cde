"""The `barometer` command: refresh an edition, run the demo, and (later) validate, deploy,
backfill, report and export. Every command has --help; failures exit non-zero with one
paragraph saying what went wrong and what to do, never a traceback."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

import barometer  # noqa: F401  (sets the no-phoning-home environment first)

app = typer.Typer(
    help="Copenhagen's inclusion barometer: refresh editions into the warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings are paragraphs: their line breaks are not kept
)

Edition = Annotated[
    Optional[str],
    typer.Option("--edition", "-e", help="Half-year edition, e.g. 2012-S2 (default: the latest complete half-year)."),
]
Verbose = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Show the pipeline's (and Prefect's) log lines on the terminal too. (env BAROMETER_VERBOSE=1)",
    ),
]
Landing = Annotated[
    Optional[Path],
    typer.Option(help="Landing zone with one folder per source. (env BAROMETER_LANDING_DIR; default ./landing)"),
]
Warehouse = Annotated[
    Optional[str],
    typer.Option(
        help="SQLAlchemy URL of the warehouse, e.g. postgresql+psycopg://user@host/db. "
        "(env BAROMETER_WAREHOUSE_URL; default sqlite:///barometer.sqlite)"
    ),
]
StatBankURL = Annotated[
    Optional[str],
    typer.Option(
        "--statbank-url",
        help="Base URL of the StatBank API. (env BAROMETER_STATBANK_URL; default https://api.statbank.dk/v1)",
    ),
]


Municipality = Annotated[
    Optional[str],
    typer.Option(
        "--municipality",
        "-m",
        help="Which municipalities to refresh: a code (101), several (101,147,751) or all (the 98 of "
        "config/municipalities.csv). Several read from `landing/CODE/SOURCE/`; one also from the "
        "single-municipality layout `landing/SOURCE/`. (env BAROMETER_MUNICIPALITY; default 101)",
    ),
]
DaskAddress = Annotated[
    Optional[str],
    typer.Option(
        "--dask-address",
        help="Run each municipality's read, validate and compute on the existing Dask cluster whose "
        "scheduler is at this address, e.g. tcp://10.0.0.5:8786. Its workers need barometer installed "
        "and the pseudonym key (env or Secret block). (env BAROMETER_DASK_ADDRESS)",
    ),
]
DaskWorkers = Annotated[
    Optional[int],
    typer.Option(
        "--dask-workers",
        min=1,
        help="Start a local Dask cluster of this many worker processes for the run. Without either "
        "Dask option, several municipalities run in local processes, one per core. "
        "(env BAROMETER_DASK_WORKERS)",
    ),
]


def place_municipalities(municipality: str | None, dask_address: str | None, dask_workers: int | None) -> None:
    """The options as the environment the run's settings are read from (a Prefect flow run in
    this process reads the same), checked first."""
    from barometer.config.municipalities import parse_municipalities

    if municipality is not None:
        try:
            parse_municipalities(municipality)
        except ValueError as error:
            fail(f"--municipality {municipality}: {error}. Give codes separated by commas, or all.", 2)
        os.environ["BAROMETER_MUNICIPALITY"] = municipality
    if dask_address and dask_workers:
        fail("Give --dask-address (an existing cluster) or --dask-workers (a local one), not both.", 2)
    if dask_address:
        os.environ["BAROMETER_DASK_ADDRESS"] = dask_address
    if dask_workers:
        os.environ["BAROMETER_DASK_WORKERS"] = str(dask_workers)


def fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def require_key() -> None:
    """Refuse before a run starts when neither the variable nor the Secret block holds the key."""
    from barometer.flows.ingest import pseudonym_key
    from barometer.sources.errors import MissingKeyError

    try:
        pseudonym_key()
    except MissingKeyError as error:
        fail(str(error), code=2)
    except Exception as error:  # the Secret block lookup needs the Prefect API
        fail(
            f"BAROMETER_PSEUDONYM_KEY is not set and its Prefect Secret block could not be read "
            f"({type(error).__name__}). Set BAROMETER_PSEUDONYM_KEY, or check PREFECT_API_URL.",
            code=2,
        )


def orchestration() -> str:
    return os.environ.get("BAROMETER_ORCHESTRATION", "auto")


def run_refresh(edition: str | None, landing: Path | None, warehouse: str | None, statbank_url: str | None):
    """Run the refresh, as a Prefect flow when a Prefect API is configured (or
    BAROMETER_ORCHESTRATION=prefect), else in this process; returns its report, or exits with a
    one-paragraph explanation."""
    from barometer.config import edition_or_default, parse_edition
    from barometer.flows.steps import use_prefect

    edition = edition_or_default(edition)
    try:
        parse_edition(edition)
        prefect = use_prefect(orchestration())
    except ValueError as error:
        fail(
            f"{error}. Give the edition as YEAR-S1 (January-June) or YEAR-S2 (July-December); "
            "BAROMETER_ORCHESTRATION as auto, prefect or local.",
            2,
        )
    if prefect:  # a temporary Prefect server must not outlive this process, even killed
        from barometer.flows.prefect_server import tie_temporary_server

        tie_temporary_server()
    require_key()
    from barometer.warehouse.database import WarehouseUnavailable, check_writable

    try:
        check_writable(warehouse_url(warehouse))  # before anything is read or a Prefect server starts
        report = (refresh_with_prefect if prefect else refresh_locally)(edition, landing, warehouse, statbank_url)
    except typer.Exit:
        raise
    except WarehouseUnavailable as error:
        fail(str(error))
    except Exception as error:  # the machinery itself failed: explain, don't dump a traceback
        fail(
            f"The refresh of {edition} could not run: {type(error).__name__}: {error}. "
            "Nothing was written to the warehouse. Check the options and the log above."
        )
    if report.failed:
        fail(report.text())
    return report


def set_verbosity(verbose: bool) -> None:
    """--verbose: the pipeline's and Prefect's log lines on the terminal; without it Prefect
    logs to its API (the UI) only: the summary at the end says what happened."""
    if verbose:
        os.environ["BAROMETER_VERBOSE"] = "1"
        return
    for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS", "CONSOLE_TASK_RUNS"):
        os.environ.setdefault(f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL", "CRITICAL")


def refresh_locally(edition: str, landing: Path | None, warehouse: str | None, statbank_url: str | None):
    from barometer import timing
    from barometer.config import Settings
    from barometer.flows.pipeline import refresh
    from barometer.flows.steps import LocalSteps, quiet_logs
    from barometer.progress import Progress
    from barometer.warehouse.database import WarehouseUnavailable
    from barometer.warehouse.lock import WarehouseBusy

    settings = Settings.from_env(landing_dir=landing, warehouse_url=warehouse, statbank_url=statbank_url)
    timing.record("imports", time.perf_counter() - barometer.STARTED)
    quiet_logs()
    progress = Progress()
    steps = LocalSteps(progress)
    try:
        with progress.live(f"Refreshing {edition} …"):
            return refresh(edition, settings, steps)
    except (WarehouseBusy, WarehouseUnavailable) as fault:
        fail(str(fault))
    finally:
        steps.close()
        timing.write_if_requested()


def refresh_with_prefect(edition: str, landing: Path | None, warehouse: str | None, statbank_url: str | None):
    from barometer import timing
    from barometer.flows.refresh import barometer_refresh
    from barometer.warehouse.database import WarehouseUnavailable
    from barometer.warehouse.lock import WarehouseBusy

    timing.record("imports", time.perf_counter() - barometer.STARTED)
    with timing.stage("orchestration start"):
        state = barometer_refresh(
            edition, str(landing) if landing else None, warehouse, statbank_url, return_state=True
        )
    timing.write_if_requested()
    report = state.result(raise_on_failure=False) if state.is_completed() or state.is_failed() else None
    if isinstance(report, (WarehouseBusy, WarehouseUnavailable)):
        fail(str(report))
    if not hasattr(report, "text"):
        fail(
            f"The refresh of {edition} ended {state.name}: {state.message}. Nothing of a failed load "
            "was written (the load is one transaction); see the Prefect log above for the cause."
        )
    return report


@app.command()
def refresh(
    edition: Edition = None,
    landing: Landing = None,
    warehouse: Warehouse = None,
    statbank_url: StatBankURL = None,
    municipality: Municipality = None,
    dask_address: DaskAddress = None,
    dask_workers: DaskWorkers = None,
    verbose: Verbose = False,
) -> None:
    """Refresh one half-yearly edition: read, validate and stage every source, compute the
    indicators and load the warehouse in one transaction. Needs BAROMETER_PSEUDONYM_KEY (or the
    Prefect Secret block named in config/sources.yaml `privacy`).

    With several municipalities (--municipality 101,147 or all) each one's sources are read,
    validated and computed side by side (local processes, or Dask), StatBank is asked once for
    all of them, and one load replaces exactly those municipalities' rows; the others' stay as
    they are.

    Runs as the Prefect flow barometer-refresh when a Prefect API is configured (PREFECT_API_URL)
    or BAROMETER_ORCHESTRATION=prefect; otherwise in this process, without a Prefect server.
    Sources whose deliveries, configuration and code are unchanged since the last load are not
    read again."""
    set_verbosity(verbose)
    place_municipalities(municipality, dask_address, dask_workers)
    report = run_refresh(edition, landing, warehouse, statbank_url)
    typer.echo(report.text())


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the demo's landing zone, StatBank data, key and warehouse go.")
    ] = Path("barometer_demo"),
    first: Annotated[str, typer.Option(help="First edition to refresh.")] = "2010-S1",
    last: Annotated[str, typer.Option(help="Last edition to refresh (printed at the end).")] = "2013-S2",
    national: Annotated[
        bool, typer.Option("--national", help="The national barometer: all 98 municipalities, side by side.")
    ] = False,
    municipalities: Annotated[
        Optional[int],
        typer.Option(
            "--municipalities",
            min=1,
            help="The national barometer for this many municipalities: Copenhagen and the most populous others.",
        ),
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Run the whole barometer on synthetic data, offline: generate the demo landing zone and
    StatBank data, serve StatBank on 127.0.0.1, refresh every edition into a local SQLite file
    and print the latest edition.

    With --national (or --municipalities N) the deliveries are many municipalities', sized by
    population (`landing/CODE/SOURCE/`); the latest edition is refreshed for all of them at once
    and the demo ends with Copenhagen's place among them. Put it in its own --dir."""
    from barometer.demo_run import run_demo, run_national_demo

    set_verbosity(verbose)
    if national or municipalities:
        directory = directory if directory != Path("barometer_demo") else Path("barometer_demo_national")
        run_national_demo(directory, last, None if national else municipalities)
    else:
        run_demo(directory, first, last)


@app.command()
def deploy() -> None:
    """Register the deployments barometer-refresh/half-yearly (15 March and 15 September, 06:00
    Europe/Copenhagen) and barometer-backfill/on-demand with the Prefect server PREFECT_API_URL
    points at, creating the process work pool 'barometer' if it is missing. Safe to run again:
    it updates them. See docs/operations.md."""
    from barometer.flows.deploy import DeployError, register

    try:
        typer.echo("\n".join(register()))
    except DeployError as error:
        fail(str(error))


@app.command()
def backfill(
    first: Annotated[str, typer.Option("--from", help="First edition, e.g. 2011-S1.")],
    last: Annotated[str, typer.Option("--to", help="Last edition, included, e.g. 2012-S2.")],
    landing: Landing = None,
    warehouse: Warehouse = None,
    statbank_url: StatBankURL = None,
    municipality: Municipality = None,
    dask_address: DaskAddress = None,
    dask_workers: DaskWorkers = None,
    verbose: Verbose = False,
) -> None:
    """Refresh every edition from --from to --to, oldest first, each exactly as the scheduled
    refresh would (one barometer-refresh subflow per edition). A failed edition does not stop the
    others; the command then exits non-zero naming it. Needs BAROMETER_PSEUDONYM_KEY (or its
    Prefect Secret block)."""
    from barometer.config import editions_between
    from barometer.flows.steps import use_prefect

    set_verbosity(verbose)
    place_municipalities(municipality, dask_address, dask_workers)
    try:
        editions_between(first, last)
        prefect = use_prefect(orchestration())
    except ValueError as error:
        fail(
            f"{error}. Give editions as YEAR-S1 or YEAR-S2, --from no later than --to; "
            "BAROMETER_ORCHESTRATION as auto, prefect or local.",
            2,
        )
    if prefect:  # before the key lookup, which may ask a (temporary) Prefect server for its block
        from barometer.flows.prefect_server import tie_temporary_server

        tie_temporary_server()
    require_key()
    try:
        if prefect:
            message = backfill_with_prefect(first, last, landing, warehouse, statbank_url)
        else:
            message = backfill_locally(first, last, landing, warehouse, statbank_url)
    except typer.Exit:
        raise
    except Exception as error:  # the machinery itself failed: explain, don't dump a traceback
        fail(
            f"The backfill could not run: {type(error).__name__}: {error}. Check the options and "
            "PREFECT_API_URL; editions already refreshed stay loaded."
        )
    typer.echo(message)


def backfill_locally(
    first: str, last: str, landing: Path | None, warehouse: str | None, statbank_url: str | None
) -> str:
    from barometer.config import Settings
    from barometer.flows.pipeline import backfill as run_backfill
    from barometer.flows.steps import LocalSteps, quiet_logs
    from barometer.progress import Progress

    settings = Settings.from_env(landing_dir=landing, warehouse_url=warehouse, statbank_url=statbank_url)
    quiet_logs()
    progress = Progress()
    steps = LocalSteps(progress)
    try:
        with progress.live(f"Backfilling {first} to {last} …"):
            report = run_backfill(first, last, settings, steps, progress.note)
    finally:
        steps.close()
    if report.failed:
        fail(report.text())
    return report.text()


def backfill_with_prefect(
    first: str, last: str, landing: Path | None, warehouse: str | None, statbank_url: str | None
) -> str:
    from barometer.flows.backfill import barometer_backfill

    state = barometer_backfill(
        first, last, str(landing) if landing else None, warehouse, statbank_url, return_state=True
    )
    if not state.is_completed():
        fail(state.message or f"The backfill ended {state.name}; see the Prefect log above.")
    return state.message or ""  # a completed backfill's message is its report


def warehouse_url(warehouse: str | None) -> str:
    from barometer.config import Settings

    return Settings.from_env(warehouse_url=warehouse).warehouse_url


@app.command()
def report(
    edition: Edition = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("barometer.html"),
    warehouse: Warehouse = None,
    municipality: Annotated[
        Optional[str],
        typer.Option(
            "--municipality",
            "-m",
            help="The municipality the page is about, by code, e.g. 751 (Aarhus). Where the warehouse "
            "holds several, each indicator also shows its place among them. (env BAROMETER_MUNICIPALITY: "
            "its first code; default 101)",
        ),
    ] = None,
) -> None:
    """Write one municipality's edition as a self-contained Danish web page: goals, statuses,
    targets, a chart per indicator, district maps where it has districts, its rank among the
    warehouse's municipalities where there are several, and the data it was built from. Opens
    offline and prints; needs only read access to the warehouse's public views."""
    from barometer.config import Settings, edition_or_default
    from barometer.config.municipalities import municipality as municipality_of_code

    try:
        code = (
            municipality_of_code(municipality.strip()).code if municipality else Settings.from_env().municipality_code
        )
    except ValueError as error:
        fail(f"{error}. Give one municipality code, e.g. --municipality 751.", 2)
    from barometer.export import WarehouseReadError
    from barometer.report import build_report

    edition = edition_or_default(edition)
    try:
        typer.echo(build_report(warehouse_url(warehouse), edition, out, code))
    except WarehouseReadError as error:
        fail(str(error))


@app.command()
def export(
    edition: Edition = None,
    file_format: Annotated[
        Literal["csv", "xlsx", "parquet"],
        typer.Option(
            "--format",
            "-f",
            help="csv: one UTF-8 file per table; xlsx: one workbook, a sheet per table and "
            "one describing the columns; parquet: one file per table.",
        ),
    ] = "csv",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the files (created if missing).")] = Path("."),
    warehouse: Warehouse = None,
) -> None:
    """Write an edition and every observation up to its end as tidy tables, names and units beside
    the codes, suppressed values as empty cells with their status. Needs only read access."""
    from barometer.config import edition_or_default
    from barometer.export import WarehouseReadError, export_edition

    edition = edition_or_default(edition)
    try:
        for path in export_edition(warehouse_url(warehouse), edition, file_format, out):
            typer.echo(path)
    except WarehouseReadError as error:
        fail(str(error))


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="A delivered file, or a delivery folder (or a file in one).")],
    source: Annotated[
        Optional[str], typer.Option(help="The source whose rules apply. [default: the landing folder PATH sits in]")
    ] = None,
) -> None:
    """Check one delivery against its source's rules, exactly as a refresh reads and validates
    it, without touching the warehouse; prints the summary a refresh would. Exits 0 if valid, 1
    if not, 2 for usage errors. Pseudonymises with BAROMETER_PSEUDONYM_KEY, else a throwaway key."""
    from barometer.validate import UsageError, validate_delivery

    try:
        verdict = validate_delivery(path, source)
    except UsageError as error:
        fail(str(error), code=2)
    if not verdict.valid:
        fail(verdict.text())
    typer.echo(verdict.text())


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
