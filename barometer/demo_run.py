"""The demo: the whole pipeline on synthetic data, offline, into a local SQLite file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import typer

from barometer.config import editions_between


def demo_key(directory: Path) -> str:
    """The demo's own pseudonym key, made once and kept beside the demo data (never the real key)."""
    path = directory / ".pseudonym-key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


def run_demo(directory: Path, first: str, last: str) -> None:
    from barometer.cli import run_refresh
    from barometer.output import print_edition
    from barometer.config import Settings
    from barometer.demo import generate
    from barometer.demo.statbank_server import serve
    from barometer.flows.ingest import reuse_staged

    directory.mkdir(parents=True, exist_ok=True)
    landing, statbank_dir = directory / "landing", directory / "statbank"
    if landing.exists():  # regenerating would give new file times and workbook checksums
        typer.echo(f"Using the demo deliveries already in {landing}")
    else:
        typer.echo(f"Generating demo deliveries in {landing} …")
        generate(landing, statbank_dir)
    os.environ.setdefault("BAROMETER_PSEUDONYM_KEY", demo_key(directory))
    os.environ.setdefault("BAROMETER_DATA_DOCS_DIR", str(directory / "data_docs"))
    warehouse = f"sqlite:///{(directory / 'barometer.sqlite').resolve()}"
    editions = editions_between(first, last)
    with serve(statbank_dir) as statbank_url, reuse_staged():
        typer.echo(f"StatBank stand-in serving on {statbank_url}")
        for edition in editions:
            typer.echo(f"Refreshing {edition} …")
            report = run_refresh(edition, landing, warehouse, statbank_url)
            typer.echo(report.text())
    print_edition(warehouse, editions[-1], Settings.from_env().municipality_code)
    typer.echo(f"\nThe warehouse is {directory / 'barometer.sqlite'}; open it with any SQLite client "
               "and query the views barometer_edition, barometer_observation, indicator_catalogue.")
