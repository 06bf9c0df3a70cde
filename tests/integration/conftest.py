"""Every test here is an integration test: the real flow, real warehouses (SQLite and
PostgreSQL), HTTP stand-ins, CLI subprocesses, Prefect or Dask. `-m "not integration"` leaves
tests/unit/, which needs none of them."""

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A conftest's hook sees the whole session's items: mark only this folder's.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)
