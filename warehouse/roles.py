"""Least privilege on PostgreSQL: the analyst role reads the public views and nothing else."""

from __future__ import annotations

from sqlalchemy import Connection


def ensure_analyst_role(connection: Connection) -> None:
    """Create `barometer_analyst` and its grants (idempotent). Placeholder: grants follow."""
