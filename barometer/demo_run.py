"""The demo: the whole pipeline on synthetic data, offline, into a local SQLite file."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

import typer

from barometer.config import Edition, RunRequest
from barometer.flows.context import RunContext
from barometer.flows.run import refresh


def demo_key(directory: Path) -> str:
    """The demo's own pseudonym key, made once and kept beside the demo data (never the real key)."""
    path = directory / ".pseudonym-key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


def demo_request(
    environ: Mapping[str, str],
    directory: Path,
    edition: Edition,
    warehouse: str,
    statbank_url: str,
    verbose: bool,
    municipalities: tuple[str, ...] | None = None,
) -> RunRequest:
    """A refresh of the demo's landing zone into its warehouse, run in this process (the demo is
    offline). The key and Data Docs folder are `environ`'s if set, else the demo's own."""
    own = {"BAROMETER_PSEUDONYM_KEY": demo_key(directory), "BAROMETER_DATA_DOCS_DIR": str(directory / "data_docs")}
    return RunRequest.build(
        {**own, **environ},
        edition=edition,
        municipalities=municipalities,
        landing_dir=directory / "landing",
        warehouse_url=warehouse,
        statbank_url=statbank_url,
        orchestration="local",
        verbose=verbose or None,
    )


def national_codes(count: int | None) -> list[str]:
    """Copenhagen and the `count` - 1 most populous others (all 98 when `count` is None)."""
    from barometer.config.municipalities import municipalities

    everyone = municipalities()
    if count is None or count >= len(everyone):
        return list(everyone)
    others = sorted((m for m in everyone.values() if m.code != "101"), key=lambda m: -m.population_thousands)
    chosen = {"101", *(m.code for m in others[: max(count, 1) - 1])}
    return [code for code in everyone if code in chosen]


def run_national_demo(
    environ: Mapping[str, str], directory: Path, last: str, count: int | None, verbose: bool = False
) -> None:
    """The national barometer on synthetic data: `count` municipalities' deliveries sized by
    population, one StatBank stand-in for all, one refresh of `last`, and Copenhagen's place."""
    from barometer.demo.employment import write_statbank
    from barometer.demo.national import write_national
    from barometer.demo.statbank_server import serve
    from barometer.output import print_place

    codes = national_codes(count)
    directory.mkdir(parents=True, exist_ok=True)
    landing, statbank_dir = directory / "landing", directory / "statbank"
    typer.echo(
        f"The national barometer demo: synthetic deliveries for {len(codes)} municipalities, sized by "
        f"population, a StatBank stand-in on 127.0.0.1, and edition {last} refreshed into a local SQLite "
        "warehouse. Offline."
    )
    if landing.exists():
        typer.echo(f"Using the demo deliveries already in {landing}")
    else:
        typer.echo(f"Generating demo deliveries in {landing} …")
        write_national(landing, codes, workers=2)
        write_statbank(statbank_dir)
    database = (directory / "barometer.sqlite").resolve()
    warehouse = f"sqlite:///{database}"
    with serve(statbank_dir) as statbank_url:
        request = demo_request(environ, directory, Edition.parse(last), warehouse, statbank_url, verbose, tuple(codes))
        report = refresh(request, RunContext())
    typer.echo(report.text().splitlines()[0])
    print_place(warehouse, last, "101")
    typer.echo(f"""
Warehouse:  {database}

Next:
  barometer report --edition {last} --warehouse {warehouse} --municipality 751 --out aarhus.html
  sqlite3 {database} "SELECT * FROM barometer_comparison WHERE edition_code = '{last}' AND indicator_code = '1.2'"
""")


def run_demo(environ: Mapping[str, str], directory: Path, first: str, last: str, verbose: bool = False) -> None:
    from barometer.demo import generate
    from barometer.demo.statbank_server import serve
    from barometer.output import print_edition

    directory.mkdir(parents=True, exist_ok=True)
    landing, statbank_dir = directory / "landing", directory / "statbank"
    editions = Edition.range(Edition.parse(first), Edition.parse(last))
    typer.echo(
        f"The barometer demo: synthetic deliveries in the real formats, a StatBank stand-in on "
        f"127.0.0.1, and {len(editions)} editions ({first} to {last}) refreshed into a local SQLite "
        "warehouse. Offline; about a minute on a laptop."
    )
    if landing.exists():  # regenerating would give new file times and workbook checksums
        typer.echo(f"Using the demo deliveries already in {landing}")
    else:
        typer.echo(f"Generating demo deliveries in {landing} …")
        generate(landing, statbank_dir)
    database = (directory / "barometer.sqlite").resolve()
    warehouse = f"sqlite:///{database}"
    context = RunContext.across_editions()  # each delivery read once, for every edition
    with serve(statbank_dir) as statbank_url:
        for edition in editions:
            request = demo_request(environ, directory, edition, warehouse, statbank_url, verbose)
            report = refresh(request, context)
            typer.echo(report.text().splitlines()[0])
    print_edition(warehouse, editions[-1].code, request.first_municipality)
    data_docs = request.data_docs_dir.resolve()
    query = (
        f"SELECT indicator_code, group_code, value, status FROM barometer_edition WHERE edition_code = '{editions[-1]}'"
    )
    typer.echo(f"""
Warehouse:  {database}
Data Docs:  {data_docs / "index.html"}

Next:
  barometer report --edition {editions[-1]} --warehouse {warehouse} --out barometer.html
  barometer export --edition {editions[-1]} --warehouse {warehouse} --format xlsx --out export/
  sqlite3 {database} "{query}"
""")
