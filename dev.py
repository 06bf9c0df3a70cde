#!/usr/bin/env python3
"""Set-up in one command: `python3 dev.py demo` runs the demo, `python3 dev.py test` the tests.

Creates ./.venv with Python 3.11 and installs the pinned package into it on first use, and again
whenever pyproject.toml changes. Needs nothing but Python and the package registries.
"""

from __future__ import annotations

import hashlib
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


def main(argv: list[str]) -> int:
    commands = {"demo": [str(BIN / "barometer"), "demo"], "test": [str(BIN / "python"), "-m", "pytest"]}
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    ensure_environment()
    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", GX_ANALYTICS_ENABLED="false")
    if argv[0] == "test" and len(argv) == 1:  # the whole suite: lint and format first, as pre-commit does
        for check in (["check", "."], ["format", "--check", "."]):
            if subprocess.run([str(BIN / "ruff"), *check], cwd=ROOT).returncode:
                print("ruff found the above: `.venv/bin/ruff check --fix . && .venv/bin/ruff format .` fixes most.")
                return 1
        # One worker per core (at most four: each builds its own session fixtures); a test
        # module stays on one worker, so its module-scoped warehouse is refreshed once.
        argv = [*argv, "--numprocesses=auto", "--maxprocesses=4", "--dist=loadfile"]
    return subprocess.run(commands[argv[0]] + argv[1:], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
