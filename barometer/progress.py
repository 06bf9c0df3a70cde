"""What a local run shows while it works: on a terminal a live line per step (rich), elsewhere
(CI, cron, a worker's log) one plain line per finished step. Counts only: no values, ever."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.status import Status
from rich.text import Text


class Progress:
    """Receives each step's start and end from `LocalSteps`."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._status: Status | None = None
        self._started: dict[str, float] = {}

    def started(self, name: str) -> None:
        self._started[name] = time.monotonic()
        if self._status is not None:
            self._status.update(f"{name} …")

    def finished(self, name: str, failed: bool) -> None:
        seconds = time.monotonic() - self._started.pop(name, time.monotonic())
        mark = "[red]✗[/red]" if failed else "[green]✓[/green]"
        if self.console.is_terminal:
            self.console.print(f" {mark} {name} [dim]({seconds:.1f} s)[/dim]", highlight=False)
        else:
            print(f"{'FAILED' if failed else 'done  '} {name} ({seconds:.1f} s)", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        """A line of its own (an edition starting, where things are)."""
        if self.console.is_terminal:
            self.console.print(text, highlight=False)
        else:
            print(Text.from_markup(text).plain, file=sys.stderr, flush=True)

    @contextmanager
    def live(self, title: str) -> Iterator["Progress"]:
        """A spinner naming the running step, on a terminal only."""
        if not self.console.is_terminal:
            yield self
            return
        with self.console.status(title) as status:
            self._status = status
            try:
                yield self
            finally:
                self._status = None
