"""A real Dask cluster for tests: one `dask scheduler` and two `dask worker` processes on
127.0.0.1, started inside the test session and stopped after it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DASK = Path(sys.executable).with_name("dask")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def dask_cluster(workers: int = 2, env: dict[str, str] | None = None) -> Iterator[str]:
    """The scheduler's address while a scheduler and `workers` single-threaded workers run."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    environment = dict(env or os.environ)
    common = {"env": environment, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    processes = [
        subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
            **common,
        )
    ]
    try:
        _wait_for(port)
        processes += [
            subprocess.Popen(
                [str(DASK), "worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"], **common
            )
            for _ in range(workers)
        ]
        _wait_for_workers(address, workers)
        yield address
    finally:
        for process in reversed(processes):
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"the Dask scheduler did not listen on 127.0.0.1:{port} within {seconds} s")


def _wait_for_workers(address: str, count: int, seconds: float = 90) -> None:
    from distributed import Client

    with Client(address, timeout=seconds) as client:
        client.wait_for_workers(count, timeout=seconds)
