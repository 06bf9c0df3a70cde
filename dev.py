#!/usr/bin/env python3
"""Set-up in one command: `python3 dev.py demo` runs the demo, `python3 dev.py test` the tests
(after ruff and mypy), `python3 dev.py types` mypy alone.

Creates ./.venv with Python 3.11 and installs the pinned package into it on first use, and again
whenever pyproject.toml changes. Needs nothing but Python and the package registries.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"


def python311() -> str:
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if not found:
        sys.exit("barometer needs Python 3.11: install it (e.g. `apt-get install python3.11`) and run again.")
    return found


def ensure_environment() -> None:
    """The venv exists and holds exactly what pyproject.toml pins."""
    if not (BIN / "python").exists():
        print("Creating .venv …", flush=True)
        subprocess.run([python311(), "-m", "venv", str(VENV)], check=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / ".installed-pyproject"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("Installing barometer and its pinned dependencies into .venv (first run: a few minutes) …", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # setuptools announces every editable install of a mapped package as a warning: it is expected.
    quiet = dict(os.environ, PYTHONWARNINGS="ignore:Editable installation")
    subprocess.run(pip + ["--upgrade", "pip"], check=True, env=quiet)
    subprocess.run(pip + ["-e", f"{ROOT}[test,bench]"], check=True, env=quiet)
    stamp.write_text(digest)


def package_folders() -> dict[str, str]:
    """pyproject's package-dir, `barometer.…` -> the folder it is installed from (read with the
    venv's Python 3.11: tomllib)."""
    script = "import json, tomllib; print(json.dumps(tomllib.load(open('pyproject.toml', 'rb'))['tool']['setuptools']"
    script += "['package-dir']))"
    found = subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(found.stdout)


def typecheck() -> int:
    """mypy over `barometer.*` as it is imported. setuptools maps the repository's folders into the
    package with an import hook mypy cannot follow, so the package is laid out as links (in mypy's
    cache folder, which git ignores) and mypy's paths are told back as the repository's."""
    folders = package_folders()
    tree = Path(".mypy_cache") / "package"
    shutil.rmtree(ROOT / tree, ignore_errors=True)
    for package, folder in sorted(folders.items()):  # a package before its subpackages
        link = ROOT / tree / package.replace(".", "/")
        if package == "barometer":  # a real folder, to hold the mapped ones: its entries are links
            link.mkdir(parents=True)
            for entry in (ROOT / folder).iterdir():
                (link / entry.name).symlink_to(entry)
        else:
            link.symlink_to(ROOT / folder, target_is_directory=True)
    checked = subprocess.run(
        [str(BIN / "mypy"), "-p", "barometer"],
        cwd=ROOT,
        env=dict(os.environ, MYPYPATH=str(tree)),
        capture_output=True,
        text=True,
    )
    report = checked.stdout + checked.stderr
    for package, folder in sorted(folders.items(), reverse=True):  # subpackages first
        report = report.replace(f"{tree / package.replace('.', '/')}/", f"{folder}/")
    print(report, end="")
    return checked.returncode


def main(argv: list[str]) -> int:
    commands = {"demo": [str(BIN / "barometer"), "demo"], "test": [str(BIN / "python"), "-m", "pytest"]}
    if not argv or argv[0] not in (*commands, "types"):
        print(__doc__)
        return 2
    ensure_environment()
    if argv[0] == "types":
        return typecheck()
    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", GX_ANALYTICS_ENABLED="false")
    if argv[0] == "test" and len(argv) == 1:  # the whole suite: lint, format and types first
        for check in (["check", "."], ["format", "--check", "."]):
            if subprocess.run([str(BIN / "ruff"), *check], cwd=ROOT).returncode:
                print("ruff found the above: `.venv/bin/ruff check --fix . && .venv/bin/ruff format .` fixes most.")
                return 1
        if typecheck():
            print("mypy found the above (settings: pyproject's [tool.mypy]); `python3 dev.py types` checks again.")
            return 1
        # One worker per core (at most four: each builds its own session fixtures); a test
        # module stays on one worker, so its module-scoped warehouse is refreshed once.
        argv = [*argv, "--numprocesses=auto", "--maxprocesses=4", "--dist=loadfile"]
    return subprocess.run(commands[argv[0]] + argv[1:], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
