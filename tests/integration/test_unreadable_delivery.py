"""A file-system fault is a rejected delivery, not a crashed run: one unreadable landing file is
named in the summary and in barometer_delivery, and every other source is still published.

These machines run as root, which reads mode-000 files: the refresh runs as a service user would,
without the capabilities that bypass file permissions (setpriv).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.integration

BAROMETER = str(Path(sys.executable).parent / "barometer")


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux setpriv")
def test_an_unreadable_delivery_is_rejected_and_the_rest_published(pseudonym_key, landing, statbank_url, tmp_path):
    unreadable = sorted((landing / "safety").iterdir())[-1]
    unreadable.chmod(0)
    warehouse = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    command = [
        "setpriv",
        "--bounding-set=-dac_override,-dac_read_search",
        "--inh-caps=-all",
        BAROMETER,
        "refresh",
        "--edition",
        "2012-S2",
        "--landing",
        str(landing),
        "--warehouse",
        warehouse,
        "--statbank-url",
        statbank_url,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")} | {
        "BAROMETER_ORCHESTRATION": "local",
        "BAROMETER_DATA_DOCS_DIR": str(tmp_path / "docs"),
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "Traceback" not in output
    assert f"REJECTED safety/{unreadable.name}" in output and "file is readable" in output, output[-3000:]
    engine = create_engine(warehouse)
    with engine.connect() as connection:
        status = dict(
            connection.execute(text("SELECT name, status FROM barometer_delivery WHERE source = 'safety'")).all()
        )
        published = set(connection.execute(text("SELECT DISTINCT indicator_code FROM barometer_observation")).scalars())
    engine.dispose()
    assert status[f"safety/{unreadable.name}"] == "rejected"
    assert {"1.1", "1.2", "4.1", "5.1", "6.1"} <= published, "the other sources and safety's other years"
