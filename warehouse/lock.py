"""One refresh at a time per warehouse, whoever starts it (the CLI, a worker, a backfill).

PostgreSQL: a session-level advisory lock, held on its own connection for the whole refresh.
SQLite: an exclusive lock on a file beside the database. Both vanish with the process that held
them, so a crashed refresh never leaves the warehouse locked. A lock that cannot be taken for
want of access (a read-only folder, a refused login) is a `WarehouseUnavailable` sentence.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from barometer.warehouse.database import connect, explained_faults
from sqlalchemy import text
from sqlalchemy.engine import make_url

ADVISORY_KEY = 0x6261726F  # 'baro'


class WarehouseBusy(Exception):
    def __init__(self, waited: float) -> None:
        super().__init__(
            f"Another refresh is running against this warehouse (waited {waited:.0f} s). Refreshes never "
            "interleave: wait for it to finish (see the Prefect UI or `prefect flow-run ls`) and run "
            "again, or set BAROMETER_LOCK_WAIT_SECONDS to wait longer."
        )

    def text(self) -> str:
        """What the CLI prints for a refresh that could not start, as for a RefreshReport."""
        return str(self)


class CommittedMeanwhile(WarehouseBusy):
    """Another refresh loaded this warehouse between this one's start and its load."""

    def __init__(self) -> None:
        Exception.__init__(
            self,
            "Another refresh committed to this warehouse while this one was reading its "
            "inputs. Nothing was written, so that older results never replace newer ones: "
            "run the refresh again.",
        )


def _poll(try_lock, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while not try_lock():
        if time.monotonic() >= deadline:
            raise WarehouseBusy(wait_seconds)
        time.sleep(min(1.0, max(0.05, wait_seconds / 20)))


@contextmanager
def refresh_lock(url: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's refresh lock, waiting up to `wait_seconds` for another to finish."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            yield
            return
        path = Path(database).with_name(Path(database).name + ".lock")
        with explained_faults(url):
            handle = path.open("a")
        with handle:

            def try_lock() -> bool:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    return False

            _poll(try_lock, wait_seconds)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    engine = connect(url)
    try:
        with explained_faults(url):
            connection = engine.connect()
        with connection:

            def try_lock() -> bool:
                return bool(
                    connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar()
                )

            _poll(try_lock, wait_seconds)
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                connection.commit()
    finally:
        engine.dispose()
