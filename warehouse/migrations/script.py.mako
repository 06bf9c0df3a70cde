"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""
# Frozen once released: spell out tables and views here, never import them from warehouse.schema,
# so that replaying this revision always builds what it built when it was written.
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}
from warehouse.migrations import core_schema, create_views, drop_views, replace_views  # noqa: F401

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
