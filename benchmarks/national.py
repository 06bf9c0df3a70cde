"""Benchmark: a national `barometer refresh --municipality all`, locally and on a two-worker Dask
cluster, against the DuckDB SQL lower bound.

Run: .venv/bin/python benchmarks/national.py [--municipalities 98] [--scale 1] [--workdir DIR]
(needs the benchmark extra: .venv/bin/pip install -e '.[bench]')

Writes the national landing zone (`landing/<municipality code>/<source>/…`, demo/national.py):
every municipality at its real size (--scale 1: Copenhagen's as benchmarks/refresh.py sizes it,
the others by population; all 98 ≈ 5.8 M residents), the demo's StatBank table behind the local
stand-in. Then, each once and in its own process: the refresh into a fresh SQLite warehouse on the
local task runner, the bound (benchmarks/refresh.py's, municipality by municipality), and the
refresh with `--dask-workers 2`. Prints wall time, CPU seconds and peak RSS of each process tree
beside the issue's targets, the refreshes' stages, and a check of the bound's values against the
first warehouse's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from refresh import (  # noqa: E402  (a sibling script, not a package)
    INSTALL_HINT,
    SEED,
    TOLERANCE,
    Run,
    bound_run,
    check,
    delivery_rows,
    generator_options,
    in_workdir,
    refresh_run,
    stage_table,
)

TARGET_SECONDS, TARGET_MIB = 10 * 60, 4 * 1024  # issue 11: a national edition, on this 2-core machine
DASK_WORKERS = 2


def write_national_landing(directory: Path, codes: list[str], scale: float) -> tuple[Path, Path]:
    """The national landing zone and StatBank directory, written once per directory (a marker
    file says it is complete, so --workdir reuses a large one)."""
    from barometer.demo.employment import write_statbank
    from barometer.demo.national import write_national

    landing, statbank = directory / "landing", directory / "statbank"
    marker = directory / "complete.json"
    wanted = {"codes": codes, "scale": scale, "seed": SEED}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return landing, statbank
    shutil.rmtree(directory, ignore_errors=True)
    write_national(landing, codes, SEED, scale, sizes=generator_options, workers=os.cpu_count() or 1)
    write_statbank(statbank, SEED)
    marker.write_text(json.dumps(wanted))
    return landing, statbank


def national_summary(landing: Path) -> list[str]:
    """Per source over every municipality: the latest delivery's rows summed, and megabytes."""
    sources = sorted({folder.name for folder in landing.glob("*/*") if folder.is_dir()})
    lines = []
    for source in sources:
        folders = sorted(landing.glob(f"*/{source}"))
        rows = sum(max(delivery_rows(delivery) for delivery in folder.iterdir()) for folder in folders)
        megabytes = sum(f.stat().st_size for folder in folders for f in folder.rglob("*") if f.is_file()) / 2**20
        lines.append(
            f"  {source:<18} {len(folders)} municipalities, latest deliveries {rows:>10,} rows, {megabytes:8.1f} MB"
        )
    return lines


def against_target(label: str, run: Run) -> str:
    verdict = "within" if run.wall <= TARGET_SECONDS and run.peak_mib <= TARGET_MIB else "OVER"
    return (
        f"  {label:<34}{run.wall:9.1f}{run.cpu:9.1f}{run.peak_mib:10,.0f}   {verdict} the target "
        f"({TARGET_SECONDS / 60:.0f} min, {TARGET_MIB / 1024:.0f} GB)"
    )


def benchmark(codes: list[str], scale: float, edition: str, workdir: Path) -> bool:
    from barometer.demo.statbank_server import serve

    print(
        f"national barometer refresh {edition}: {len(codes)} municipalities at {scale:g} × their real size; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    started = time.perf_counter()
    landing, statbank = write_national_landing(workdir / f"national-{len(codes)}-S{scale:g}", codes, scale)
    print(f"landing zone {landing} ({time.perf_counter() - started:.0f} s to write or reuse):", flush=True)
    print("\n".join(national_summary(landing)), flush=True)
    everyone = ("--municipality", ",".join(codes) if len(codes) < 98 else "all")
    with serve(statbank) as statbank_url:
        runs = {}
        for label, options in [("local", everyone), ("dask", (*everyone, "--dask-workers", str(DASK_WORKERS)))]:
            warehouse = workdir / f"warehouse-{label}.sqlite"
            warehouse.unlink(missing_ok=True)
            runs[label] = refresh_run(workdir, landing, warehouse, statbank_url, edition, f"refresh-{label}", options)
            print(f"  refresh ({label}): {runs[label].wall:.1f} s, {runs[label].peak_mib:,.0f} MiB", flush=True)
            if label == "local":
                bound, observations = bound_run(workdir, landing, edition, "bound", codes)
                print(f"  bound: {bound.wall:.1f} s, {bound.peak_mib:,.0f} MiB", flush=True)
    lines, honest = check(observations, workdir / "warehouse-local.sqlite", bound_areas_only=True)
    print(f"\n  {'':<34}{'wall s':>9}{'CPU s':>9}{'peak MiB':>10}")
    print(against_target("refresh, local task runner", runs["local"]))
    print(against_target(f"refresh, {DASK_WORKERS}-worker Dask cluster", runs["dask"]))
    print(f"  {'DuckDB SQL bound':<34}{bound.wall:9.1f}{bound.cpu:9.1f}{bound.peak_mib:10,.0f}")
    local = runs["local"]
    print(f"\n  barometer ÷ bound (local): CPU {local.cpu / bound.cpu:.2f}×, wall {local.wall / bound.wall:.2f}×\n")
    print("\n".join(stage_table([runs["local"]], [runs["dask"]], labels=("local", "dask"))))
    print(f"\ncheck: the bound's values against the local warehouse (within {TOLERANCE:g})")
    print("\n".join(lines))
    return honest


def main() -> None:
    from barometer.config.municipalities import municipalities

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--municipalities", type=int, default=98, help="the first N of the list (101 first; default 98)"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="× each municipality's real size (default 1)")
    parser.add_argument("--edition", default="2013-S2", help="edition refreshed (default 2013-S2)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="kept and reused (the landing zone is written once); default: a temporary directory, removed",
    )
    args = parser.parse_args()
    try:
        import duckdb  # noqa: F401  (the bound's process imports them; fail early and clearly)
        import fastexcel  # noqa: F401
        import psutil  # noqa: F401
    except ImportError:
        raise SystemExit(INSTALL_HINT) from None
    codes = list(municipalities())[: args.municipalities]
    in_workdir(args.workdir, "barometer-national-", lambda workdir: benchmark(codes, args.scale, args.edition, workdir))


if __name__ == "__main__":
    main()
