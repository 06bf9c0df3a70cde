"""What each source's stored observations were computed from.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

A refresh records, per source, one checksum of the inputs it computed that source's
observations from (deliveries, configuration, code and key versions) and what it reported about
them. A later refresh whose checksum matches reuses the stored observations instead of reading
the files again. Internal only: no public view changes.
"""

# Frozen once released: the table is spelled out here, never imported from warehouse.schema.
import sqlalchemy as sa
from alembic import op
from barometer.warehouse.migrations import core_schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_input",
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),  # deliveries and rejections, as reported
        sa.Column("run_id", sa.String(64), nullable=False),
        schema=core_schema(),
    )


def downgrade() -> None:
    op.drop_table("source_input", schema=core_schema())
