"""The built wheel works outside the checkout: everything the package reads at run time
(templates, migrations, YAML, GeoJSON, column descriptions) ships inside it, and it installs
nothing but the `barometer` namespace.

The wheel goes into a fresh virtual environment whose third-party packages come from this one
(a .pth file), so the test checks the package itself without downloading its dependencies.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def run(command: list[str], cwd: Path, **environment: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAROMETER_", "PREFECT_API"))}
    done = subprocess.run(command, cwd=cwd, env=env | environment, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding the wheel built from this checkout; returns its bin folder."""
    base = tmp_path_factory.mktemp("wheel")
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(base), str(ROOT)],
        cwd=base,
        PYTHONWARNINGS="ignore",
    )
    (wheel,) = base.glob("barometer-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"barometer", wheel.name.split("-py")[0] + ".dist-info"}
    assert {
        "barometer/templates/report.html.j2",
        "barometer/config/indicators.yaml",
        "barometer/warehouse/migrations/versions/0001_baseline.py",
    } <= set(names)
    venv = base / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=base)
    packages = next(venv.glob("lib/python*/site-packages"))
    (packages / "dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], cwd=base)
    return venv / "bin"


def test_demo_report_and_export_run_from_the_installed_wheel(installed, tmp_path):
    demo = run(
        [str(installed / "barometer"), "demo", "--dir", "demo", "--first", "2012-S2", "--last", "2012-S2"], cwd=tmp_path
    )
    assert "Inklusionsbarometer 2012-S2" in demo.stdout
    warehouse = f"sqlite:///{tmp_path / 'demo' / 'barometer.sqlite'}"
    run(
        [
            str(installed / "barometer"),
            "report",
            "--edition",
            "2012-S2",
            "--warehouse",
            warehouse,
            "--out",
            "report.html",
        ],
        cwd=tmp_path,
    )
    assert "<svg" in (tmp_path / "report.html").read_text(encoding="utf-8")
    run(
        [
            str(installed / "barometer"),
            "export",
            "--edition",
            "2012-S2",
            "--warehouse",
            warehouse,
            "--format",
            "xlsx",
            "--out",
            "export",
        ],
        cwd=tmp_path,
    )
    assert list((tmp_path / "export").glob("*.xlsx"))
    where = run(
        [
            str(installed / "python"),
            "-c",
            "import barometer.flows, barometer.config; print(barometer.flows.__file__, barometer.config.__file__)",
        ],
        cwd=tmp_path,
    )
    assert str(ROOT) not in where.stdout, "imported from the installed wheel, not the checkout"
