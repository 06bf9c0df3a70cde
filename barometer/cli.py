"""The `barometer` command: refresh an edition, run the demo, and (later) validate, deploy,
backfill, report and export. Every command has --help; failures exit non-zero with one
paragraph saying what went wrong and what to do, never a traceback."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

import barometer  # noqa: F401  (sets the no-phoning-home environment first)

app = typer.Typer(help="Copenhagen's inclusion barometer: refresh editions into the warehouse.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

Edition = Annotated[str, typer.Option("--edition", "-e", help="Half-year edition, e.g. 2012-S2.")]
Landing = Annotated[Optional[Path], typer.Option(
    help="Landing zone with one folder per source. [env: BAROMETER_LANDING_DIR; default ./landing]")]
Warehouse = Annotated[Optional[str], typer.Option(
    help="SQLAlchemy URL of the warehouse, e.g. postgresql+psycopg://user@host/db. "
         "[env: BAROMETER_WAREHOUSE_URL; default sqlite:///barometer.sqlite]")]
StatBankURL = Annotated[Optional[str], typer.Option(
    "--statbank-url", help="Base URL of the StatBank API. [env: BAROMETER_STATBANK_URL; "
                           "default https://api.statbank.dk/v1]")]


def fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def require_key() -> None:
    from sources.errors import MissingKeyError

    if not os.environ.get("BAROMETER_PSEUDONYM_KEY"):
        fail(str(MissingKeyError()), code=2)


def run_refresh(edition: str, landing: Path | None, warehouse: str | None, statbank_url: str | None):
    """Run the refresh flow; returns its report, or exits with a one-paragraph explanation."""
    from config import parse_edition

    try:
        parse_edition(edition)
    except ValueError as error:
        fail(f"{error}. Give the edition as YEAR-S1 (January-June) or YEAR-S2 (July-December).", 2)
    require_key()
    from flows.refresh import barometer_refresh

    try:
        state = barometer_refresh(edition, str(landing) if landing else None, warehouse, statbank_url,
                                  return_state=True)
    except Exception as error:  # the flow machinery itself failed: explain, don't dump a traceback
        fail(f"The refresh of {edition} could not run: {type(error).__name__}: {error}. "
             "Nothing was written to the warehouse. Check the options and the Prefect log above.")
    report = state.result(raise_on_failure=False) if state.is_completed() or state.is_failed() else None
    if state.is_failed() and hasattr(report, "text"):
        fail(report.text())
    if not state.is_completed():
        fail(f"The refresh of {edition} ended {state.name}: {state.message}. Nothing of a failed load "
             "was written (the load is one transaction); see the Prefect log above for the cause.")
    return report


@app.command()
def refresh(edition: Edition, landing: Landing = None, warehouse: Warehouse = None,
            statbank_url: StatBankURL = None) -> None:
    """Refresh one half-yearly edition: read, validate and stage every source, compute the
    indicators and load the warehouse in one transaction. Needs BAROMETER_PSEUDONYM_KEY."""
    report = run_refresh(edition, landing, warehouse, statbank_url)
    typer.echo(report.text())


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo's landing zone, StatBank "
                                                          "data, key and warehouse go.")] = Path("barometer_demo"),
    first: Annotated[str, typer.Option(help="First edition to refresh.")] = "2010-S1",
    last: Annotated[str, typer.Option(help="Last edition to refresh (printed at the end).")] = "2013-S2",
) -> None:
    """Run the whole barometer on synthetic data, offline: generate the demo landing zone and
    StatBank data, serve StatBank on 127.0.0.1, refresh every edition into a local SQLite file
    and print the latest edition."""
    from barometer.demo_run import run_demo

    run_demo(directory, first, last)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
