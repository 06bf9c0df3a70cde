"""The `barometer` command: refresh an edition, run the demo, and (later) validate, deploy,
backfill, report and export. Every command has --help; failures exit non-zero with one
paragraph saying what went wrong and what to do, never a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, Optional

import typer

import barometer  # noqa: F401  (sets the no-phoning-home environment first)

if TYPE_CHECKING:
    from barometer.config.run import RunRequest

app = typer.Typer(
    help="Copenhagen's inclusion barometer: refresh editions into the warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings are paragraphs: their line breaks are not kept
)

EditionOption = Annotated[
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


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def run_request(edition: str | None, municipality: str | None = None, **options: Any) -> RunRequest:
    """The run's request: the options, else their BAROMETER_* variables, else the defaults;
    a malformed one is a usage error (exit 2)."""
    from barometer.config.municipalities import parse_municipalities
    from barometer.config.run import Edition, RunRequest

    if municipality is not None:
        try:
            parse_municipalities(municipality)
        except ValueError as error:
            fail(f"--municipality {municipality}: {error}. Give codes separated by commas, or all.", 2)
    if options.get("dask_address") and options.get("dask_workers"):
        fail("Give --dask-address (an existing cluster) or --dask-workers (a local one), not both.", 2)
    try:
        chosen = Edition.given_or_default(edition)
    except ValueError as error:
        fail(
            f"{error}. Give the edition as YEAR-S1 (January-June) or YEAR-S2 (July-December); "
            "BAROMETER_ORCHESTRATION as auto, prefect or local.",
            2,
        )
    try:
        return RunRequest.build(os.environ, edition=chosen, municipalities=municipality, **options)
    except ValueError as error:
        fail(f"{error}. Check the options and the BAROMETER_* environment variables.", 2)


def run(start: Callable[[], Any]) -> Any:
    """The run's result, or its one-paragraph failure and exit code."""
    from barometer.flows.run import RunFailed

    try:
        return start()
    except RunFailed as failure:
        fail(failure.message, failure.code)


def set_verbosity(verbose: bool) -> None:
    """Without --verbose, Prefect logs to its API (the UI) only: the summary at the end says what
    happened (Prefect's own settings, as defaults)."""
    if verbose:
        return
    for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS", "CONSOLE_TASK_RUNS"):
        os.environ.setdefault(f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL", "CRITICAL")


@app.command()
def refresh(
    edition: EditionOption = None,
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
    from barometer.flows.context import RunContext
    from barometer.flows.run import refresh as run_refresh

    request = reading_request(
        edition, landing, warehouse, statbank_url, municipality, dask_address, dask_workers, verbose
    )
    set_verbosity(request.verbose)
    report = run(lambda: run_refresh(request, RunContext()))
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
    from barometer.config.run import Edition
    from barometer.demo_run import run_demo, run_national_demo

    set_verbosity(verbose)
    try:
        Edition.range(Edition.parse(first), Edition.parse(last))
    except ValueError as error:
        fail(f"{error}. Give editions as YEAR-S1 or YEAR-S2, --first no later than --last.", 2)
    if national or municipalities:
        directory = directory if directory != Path("barometer_demo") else Path("barometer_demo_national")
        run(lambda: run_national_demo(os.environ, directory, last, None if national else municipalities, verbose))
    else:
        run(lambda: run_demo(os.environ, directory, first, last, verbose))


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
    from barometer.flows.run import backfill as run_backfill

    request = reading_request(None, landing, warehouse, statbank_url, municipality, dask_address, dask_workers, verbose)
    set_verbosity(request.verbose)
    typer.echo(run(lambda: run_backfill(request, first, last)))


def reading_request(
    edition: str | None,
    landing: Path | None,
    warehouse: str | None,
    statbank_url: str | None,
    municipality: str | None,
    dask_address: str | None,
    dask_workers: int | None,
    verbose: bool,
) -> RunRequest:
    """The request of a run that reads deliveries (refresh, backfill) from their common options."""
    return run_request(
        edition,
        municipality,
        landing_dir=landing,
        warehouse_url=warehouse,
        statbank_url=statbank_url,
        dask_address=dask_address,
        dask_workers=dask_workers,
        verbose=verbose or None,
    )


def warehouse_url(warehouse: str | None) -> str:
    return run_request(None, warehouse_url=warehouse).warehouse_url


@app.command()
def report(
    edition: EditionOption = None,
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
    from barometer.config.municipalities import municipality as municipality_of_code
    from barometer.config.run import Edition

    try:
        code = (
            municipality_of_code(municipality.strip()).code if municipality else run_request(edition).first_municipality
        )
    except ValueError as error:
        fail(f"{error}. Give one municipality code, e.g. --municipality 751.", 2)
    from barometer.export import WarehouseReadError
    from barometer.report import build_report

    edition = edition or Edition.default().code
    try:
        typer.echo(build_report(warehouse_url(warehouse), edition, out, code))
    except WarehouseReadError as error:
        fail(str(error))


@app.command()
def export(
    edition: EditionOption = None,
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
    from barometer.config.run import Edition
    from barometer.export import WarehouseReadError, export_edition

    edition = edition or Edition.default().code
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

    request = run_request(None)
    try:
        verdict = validate_delivery(path, source, request.first_municipality, request.pseudonym_secret)
    except UsageError as error:
        fail(str(error), code=2)
    if not verdict.valid:
        fail(verdict.text())
    typer.echo(verdict.text())


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
