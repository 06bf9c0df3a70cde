"""Check that two revisions build the same public views from the same deliveries (issue 23).

Run: .venv/bin/python benchmarks/same_views.py [--before REV] [--after REV] [--work DIR]
(REV: a git revision of this repository; --before defaults to 2dffa85, --after to this working tree.)

Each revision runs from its own copy of the code (`git archive`) and its own venv (this one's,
copied, with an editable install of that copy), through its own command line, on the same inputs:
one demo landing zone for Copenhagen and one national zone for four municipalities in four
regions, written once by this venv's generators, the same pseudonym key and one StatBank stand-in
on 127.0.0.1. Each revision backfills the single zone and refreshes the national zone's latest
edition into fresh SQLite warehouses; then every `barometer_*` view and `indicator_catalogue` is
compared row by row, ignoring only the columns in VARYING. Exits 1 on any difference.
--work keeps the copies, venvs and inputs between runs (default: a folder under the temp dir).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
KEY = "same-views-key-not-a-secret"
SEED = 2013
FIRST, LAST = "2010-S1", "2013-S2"
NATIONAL = ["101", "147", "751", "461"]  # Copenhagen, Frederiksberg, Aarhus, Odense: four regions
# The only column that differs between two builds of the same revision (2dffa85 against itself):
# the refresh's id (a uuid4). The public views carry no timestamps or durations.
VARYING = {"run_id"}
EXAMPLES = 3


def git(*arguments: str) -> str:
    return subprocess.run(["git", "-C", str(REPOSITORY), *arguments], check=True, capture_output=True, text=True).stdout


def checkout(revision: str | None, work: Path) -> Path:
    """A tree of `revision`'s code with its own venv (made once per commit); None is this tree."""
    if revision is None:
        return REPOSITORY
    commit = git("rev-parse", "--verify", f"{revision}^{{commit}}").strip()
    tree = work / f"tree-{commit[:12]}"
    if (tree / ".venv" / "complete").exists():
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPOSITORY), "archive", commit], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    template = Path(sys.prefix)
    shutil.copytree(template, tree / ".venv", symlinks=True)
    for script in (tree / ".venv" / "bin").iterdir():  # the scripts' #! lines name the template venv
        if script.is_file() and not script.is_symlink() and script.read_bytes().startswith(b"#!"):
            script.write_text(script.read_text().replace(str(template), str(tree / ".venv")))
    pip = [str(tree / ".venv/bin/python"), "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", str(tree)], check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    (tree / ".venv" / "complete").touch()
    return tree


def inputs(work: Path) -> Path:
    """The landing zones and StatBank table, written once (a marker says they are complete)."""
    from barometer.demo import generate
    from barometer.demo.national import write_national

    directory = work / "inputs"
    wanted = {"seed": SEED, "national": NATIONAL}
    marker = directory / "complete.json"
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    generate(directory / "single", directory / "statbank", SEED)
    write_national(directory / "national", NATIONAL, SEED)
    marker.write_text(json.dumps(wanted))
    return directory


def build(tree: Path, directory: Path, given: Path, statbank_url: str) -> None:
    """The revision's own `barometer` backfills the single zone and refreshes the national one."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    env = {name: value for name, value in os.environ.items() if not name.startswith(("BAROMETER_", "PREFECT_"))}
    env |= {
        "BAROMETER_PSEUDONYM_KEY": KEY,
        "BAROMETER_DATA_DOCS_DIR": str(directory / "data_docs"),
        "PREFECT_HOME": str(directory / "prefect_home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "GX_ANALYTICS_ENABLED": "false",
    }
    common = ["--statbank-url", statbank_url]
    commands = [
        ["backfill", "--from", FIRST, "--to", LAST, "--landing", str(given / "single"), "--municipality", "101"],
        ["refresh", "--edition", LAST, "--landing", str(given / "national"), "--municipality", ",".join(NATIONAL)],
    ]
    for warehouse, command in zip(["single", "national"], commands, strict=False):
        url = f"sqlite:///{directory / warehouse}.sqlite"
        with open(directory / f"{warehouse}.log", "w") as log:
            process = subprocess.run(
                [str(tree / ".venv/bin/barometer"), *command, "--warehouse", url, *common],
                env=env,
                cwd=directory,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if process.returncode:
            raise SystemExit(f"{tree}: barometer {command[0]} failed, see {directory / warehouse}.log")


def views(database: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every public view's columns (VARYING left out) and rows."""
    with sqlite3.connect(database) as connection:
        names = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
            if name.startswith("barometer_") or name == "indicator_catalogue"
        ]
        found = {}
        for name in names:
            cursor = connection.execute(f'SELECT * FROM "{name}"')
            columns = [column[0] for column in cursor.description]
            kept = [index for index, column in enumerate(columns) if column not in VARYING]
            found[name] = ([columns[i] for i in kept], [tuple(row[i] for i in kept) for row in cursor])
    return found


def pairing_columns(columns: list[str], before: list[tuple], after: list[tuple]) -> list[int]:
    """The columns that pair rows: the fewest of the codes and ids, then the others, in the view's
    order, that tell rows apart on both sides (all of them if rows repeat)."""
    order = sorted(range(len(columns)), key=lambda i: not columns[i].endswith(("_code", "_id")))
    for width in range(1, len(order) + 1):
        if all(len({tuple(row[i] for i in order[:width]) for row in rows}) == len(rows) for rows in (before, after)):
            return order[:width]
    return order


def compare(name: str, before: tuple[list[str], list[tuple]], after: tuple[list[str], list[tuple]]) -> list[str]:
    """The view's differences, as lines; none if it is the same."""
    (columns, old), (new_columns, new) = before, after
    if columns != new_columns:
        return [f"  columns differ: {columns} before, {new_columns} after"]
    paired_on = pairing_columns(columns, old, new)
    grouped = {side: defaultdict(list) for side in ("before", "after")}
    for side, rows in (("before", old), ("after", new)):
        for row in rows:
            grouped[side][tuple(row[i] for i in paired_on)].append(row)
    only = {"before": [], "after": []}
    cells = []
    for key in sorted(grouped["before"].keys() | grouped["after"].keys(), key=repr):
        first, second = (
            sorted(grouped["before"].get(key, []), key=repr),
            sorted(grouped["after"].get(key, []), key=repr),
        )
        for row, other in zip(first, second, strict=False):
            cells += [(key, columns[i], a, b) for i, (a, b) in enumerate(zip(row, other, strict=False)) if a != b]
        only["before"] += first[len(second) :]
        only["after"] += second[len(first) :]
    lines = []
    for side, rows in only.items():
        if rows:
            lines += [f"  {len(rows)} rows only {side}, e.g."] + [f"    {row}" for row in rows[:EXAMPLES]]
    if cells:
        lines.append(f"  {len(cells)} cells differ (key: {', '.join(columns[i] for i in paired_on)}), e.g.")
        lines += [f"    {key} {column}: {a!r} before, {b!r} after" for key, column, a, b in cells[:EXAMPLES]]
    return lines


def report(before: Path, after: Path) -> bool:
    """Print each view's rows and differences; True if every view is the same."""
    old, new = views(before), views(after)
    same = True
    for name in sorted(old.keys() | new.keys()):
        if name not in old or name not in new:
            print(f"{before.stem}/{name}: only {'after' if name in new else 'before'}")
            same = False
            continue
        lines = compare(name, old[name], new[name])
        verdict = "DIFFERENT" if lines else "same"
        print(f"{before.stem}/{name}: {len(old[name][1])} rows before, {len(new[name][1])} after: {verdict}")
        for line in lines:
            print(line)
        same = same and not lines
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="2dffa85", help="git revision (default 2dffa85)")
    parser.add_argument("--after", default=None, help="git revision (default: this working tree)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "same_views")
    options = parser.parse_args()
    from barometer.demo.statbank_server import serve

    started = time.perf_counter()
    work = options.work.resolve()
    given = inputs(work)
    trees = {"before": checkout(options.before, work), "after": checkout(options.after, work)}
    print(f"inputs and trees ready in {time.perf_counter() - started:.0f} s: {given}")
    with serve(given / "statbank") as statbank_url:
        for label, tree in trees.items():
            began = time.perf_counter()
            build(tree, work / label, given, statbank_url)
            print(f"{label} ({tree}) built in {time.perf_counter() - began:.0f} s")
    print(f"ignoring columns {sorted(VARYING)}")
    same = all(
        [
            report(work / "before" / f"{name}.sqlite", work / "after" / f"{name}.sqlite")
            for name in ("single", "national")
        ]
    )
    print(f"{'identical' if same else 'DIFFERENT'} after {time.perf_counter() - started:.0f} s")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
