"""Where a run's time goes, stage by stage (read, pseudonymise, validate, compute, …).

A stage's time excludes the stages nested inside it (pseudonymising happens while a file is
read, and counts as pseudonymising), so the stages add up to the run. Stages are counted per
thread and summed, so work done side by side (the StatBank fetch while files are read) counts in
full. `BAROMETER_STAGE_TIMINGS=path` makes the CLI write them there as JSON (benchmarks read it).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_totals: dict[str, float] = defaultdict(float)
_lock = threading.Lock()
_local = threading.local()


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Count the time spent inside the block (less nested stages) towards `name`."""
    stack = _local.__dict__.setdefault("stack", [])
    started = time.perf_counter()
    stack.append(0.0)  # time spent in stages nested inside this one
    try:
        yield
    finally:
        nested = stack.pop()
        elapsed = time.perf_counter() - started
        with _lock:
            _totals[name] += elapsed - nested
        if stack:
            stack[-1] += elapsed


def record(name: str, seconds: float) -> None:
    """Time measured elsewhere (the interpreter's start and imports)."""
    with _lock:
        _totals[name] += seconds


def totals() -> dict[str, float]:
    with _lock:
        return dict(_totals)


def write_if_requested() -> None:
    """Write the stages to BAROMETER_STAGE_TIMINGS, if set (benchmarks)."""
    path = os.environ.get("BAROMETER_STAGE_TIMINGS")
    if path:
        Path(path).write_text(json.dumps({"stages": {k: round(v, 4) for k, v in totals().items()}}, indent=1))
