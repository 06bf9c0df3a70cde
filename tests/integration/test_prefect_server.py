"""Prefect's temporary server (a CLI refresh with BAROMETER_ORCHESTRATION=prefect and no
PREFECT_API_URL) is a helper of that refresh: killed with SIGKILL, the refresh runs no exit
handler, yet its server must be gone within seconds (issue 14)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.integration

BAROMETER = str(Path(sys.executable).parent / "barometer")
FEW_SECONDS = 6.0  # the server looks for its parent every 0.5 s, then stops (at most 3 s more)


def server_of(refresh: psutil.Process) -> psutil.Process | None:
    """The refresh's temporary Prefect server (uvicorn), once it answers its health check."""
    for child in refresh.children(recursive=True):
        try:
            command = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        if "uvicorn" in command and "--port" in command:
            port = command[command.index("--port") + 1]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    return child
            except httpx.HTTPError:
                return None
    return None


def gone(process: psutil.Process) -> bool:
    """Ended (a zombie waiting for a reaper has ended too)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for(condition, seconds: float):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if found := condition():
            return found
        time.sleep(0.1)
    return condition()


def test_a_killed_refresh_takes_its_temporary_prefect_server_with_it(demo_data, statbank_url, pseudonym_key, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(demo_data / "landing" / "safety", landing / "safety")
    env = {
        **os.environ,
        "BAROMETER_ORCHESTRATION": "prefect",
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "BAROMETER_DATA_DOCS_DIR": str(tmp_path / "data_docs"),
    }
    env.pop("PREFECT_API_URL", None)
    command = [BAROMETER, "refresh", "--edition", "2012-S2", "--landing", str(landing)]
    command += ["--warehouse", f"sqlite:///{tmp_path / 'warehouse.sqlite'}", "--statbank-url", statbank_url]
    started = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    refresh = psutil.Process(started.pid)
    helpers: list[psutil.Process] = []
    try:
        server = wait_for(lambda: server_of(refresh), 180)
        assert server, "no temporary Prefect server answered within 180 s"
        helpers = [server, *server.children(recursive=True)]
        os.kill(started.pid, signal.SIGKILL)  # the refresh alone, not its process group
        started.wait(timeout=30)
        killed = time.monotonic()
        survivors = [p for p in helpers if not wait_for(lambda p=p: gone(p), FEW_SECONDS)]
        assert not survivors, f"{survivors} outlived the killed refresh by {time.monotonic() - killed:.0f} s"
    finally:
        if started.poll() is None:
            helpers += refresh.children(recursive=True)
            started.kill()
        for process in helpers:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
