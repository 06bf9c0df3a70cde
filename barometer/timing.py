"""Where a run's time goes, stage by stage (read, pseudonymise, validate, compute, …).

A stage's time excludes the stages nested inside it (pseudonymising happens while a file is
read, and counts as pseudonymising), so the stages add up to the run. Stages are counted per
thread and summed, so work done side by side (the StatBank fetch while files are read) counts in
full. Each run keeps its own `StageTimings` (in its flows/context.py `RunContext`); with
`BAROMETER_STAGE_TIMINGS=path` the CLI writes them there as JSON (benchmarks read it).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Per thread, the stages open in it, innermost last: [the run's timings, time of nested stages].
_open = threading.local()


class StageTimings:
    """One run's seconds per stage."""

    def __init__(self) -> None:
        self._totals: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Count the time spent inside the block (less nested stages) towards `name`."""
        stack = _open.__dict__.setdefault("stack", [])
        started = time.perf_counter()
        stack.append([self, 0.0])
        try:
            yield
        finally:
            _, nested = stack.pop()
            elapsed = time.perf_counter() - started
            self.record(name, elapsed - nested)
            if stack:
                stack[-1][1] += elapsed

    def record(self, name: str, seconds: float) -> None:
        """Time measured elsewhere (the interpreter's start and imports, a worker's stages)."""
        with self._lock:
            self._totals[name] += seconds

    def totals(self) -> dict[str, float]:
        with self._lock:
            return dict(self._totals)

    def write_if_requested(self, path: Path | None) -> None:
        """The stages as JSON in `path` (BAROMETER_STAGE_TIMINGS: benchmarks read them), if given."""
        if path:
            stages = {name: round(seconds, 4) for name, seconds in self.totals().items()}
            Path(path).write_text(json.dumps({"stages": stages}, indent=1))


@contextmanager
def stage(name: str) -> Iterator[None]:
    """A stage nested in whatever stage this thread is in, counted towards that stage's run
    (for code that is not handed the run's timings: the readers' pseudonymising); outside any
    stage it is not counted."""
    stack = _open.__dict__.get("stack")
    if not stack:
        yield
        return
    with stack[-1][0].stage(name):
        yield
