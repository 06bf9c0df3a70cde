"""Baseline: the warehouse as released before migrations (internal tables, four public views).

Revision ID: 0001
Revises:
Create Date: 2026-05-08

A warehouse made by the pre-migration code holds exactly this and is stamped at this revision.
"""

# Frozen once released: spell out tables and views here, never import them from warehouse.schema,
# so that replaying this revision always builds what it built when it was written.
import sqlalchemy as sa
from alembic import op
from barometer.warehouse.migrations import core_schema, create_views, drop_views

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

VIEWS = {
    "barometer_observation": """
SELECT o.indicator_code, o.measure, o.group_code, o.area_code, o.period_code, o.reference_date,
       o.value, o.numerator, o.denominator, o.n, o.ci_low, o.ci_high, o.obs_status,
       o.delivery_id, d.name AS delivery_name, o.run_id
FROM {core}observation o
LEFT JOIN {core}delivery d ON d.delivery_id = o.delivery_id""",
    "barometer_edition": """
SELECT e.edition_code, e.indicator_code, i.goal, i.name_da AS indicator_name_da,
       i.name_en AS indicator_name_en, i.unit, i.direction, e.group_code, e.area_code,
       e.reference_date, e.period_code, e.value, e.obs_status, e.ci_low, e.ci_high, e.n,
       e.previous_value, e.previous_reference_date, e.change, e.status, e.target_value,
       e.target_year, e.on_track, e.trend_per_year, e.gap, e.years_to_parity, e.run_id
FROM {core}edition_entry e
JOIN {core}indicator i ON i.indicator_code = e.indicator_code""",
    "barometer_delivery": """
SELECT d.delivery_id, d.source, d.name, d.reference_date, d.sha256, d.rows, d.status, d.message,
       d.key_version, d.run_id
FROM {core}delivery d""",
    "indicator_catalogue": """
SELECT i.indicator_code, i.goal, g.name_da AS goal_name_da, g.name_en AS goal_name_en,
       i.name_da, i.name_en, i.unit, i.direction, i.source, i.frequency, i.reference_date,
       i.method, i.target_value, i.target_year, i.target_group, i.measured
FROM {core}indicator i
JOIN {core}goal g ON g.goal = i.goal""",
}


def _tables() -> dict[str, list[sa.Column]]:
    """The internal tables, made afresh on each call (a Column belongs to one Table only)."""
    return {
        "goal": [
            sa.Column("goal", sa.Integer, primary_key=True),
            sa.Column("name_da", sa.Text, nullable=False),
            sa.Column("name_en", sa.Text, nullable=False),
            sa.Column("policy_area", sa.Text, nullable=False),
        ],
        "indicator": [
            sa.Column("indicator_code", sa.String(8), primary_key=True),
            sa.Column("goal", sa.Integer, nullable=False),
            sa.Column("name_da", sa.Text, nullable=False),
            sa.Column("name_en", sa.Text, nullable=False),
            sa.Column("unit", sa.String(32), nullable=False),
            sa.Column("direction", sa.String(8), nullable=False),
            sa.Column("source", sa.String(64), nullable=False),
            sa.Column("frequency", sa.String(32), nullable=False),
            sa.Column("reference_date", sa.Text),
            sa.Column("method", sa.Text),
            sa.Column("target_value", sa.Float),
            sa.Column("target_year", sa.Integer),
            sa.Column("target_group", sa.String(16)),
            sa.Column("measured", sa.Boolean, nullable=False),
        ],
        "population_group": [
            sa.Column("group_code", sa.String(16), primary_key=True),
            sa.Column("name_da", sa.Text, nullable=False),
            sa.Column("name_en", sa.Text, nullable=False),
        ],
        "area": [
            sa.Column("area_code", sa.String(16), primary_key=True),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("level", sa.String(16), nullable=False),
        ],
        "run": [
            sa.Column("run_id", sa.String(64), primary_key=True),
            sa.Column("edition_code", sa.String(8), nullable=False),
            sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("summary", sa.Text, nullable=False),
        ],
        "delivery": [
            sa.Column("delivery_id", sa.String(32), primary_key=True),
            sa.Column("source", sa.String(32), nullable=False),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("reference_date", sa.Date),
            sa.Column("sha256", sa.String(64), nullable=False),
            sa.Column("rows", sa.Integer),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("message", sa.Text),
            sa.Column("key_version", sa.String(16)),
            sa.Column("run_id", sa.String(64), nullable=False),
        ],
        "observation": [
            sa.Column("indicator_code", sa.String(8), primary_key=True),
            sa.Column("measure", sa.String(32), primary_key=True),
            sa.Column("group_code", sa.String(16), primary_key=True),
            sa.Column("area_code", sa.String(16), primary_key=True),
            sa.Column("reference_date", sa.Date, primary_key=True),
            sa.Column("period_code", sa.String(8), nullable=False),
            sa.Column("value", sa.Float),
            sa.Column("numerator", sa.Float),
            sa.Column("denominator", sa.Float),
            sa.Column("n", sa.Float),
            sa.Column("ci_low", sa.Float),
            sa.Column("ci_high", sa.Float),
            sa.Column("obs_status", sa.String(16), nullable=False),
            sa.Column("delivery_id", sa.String(32)),
            sa.Column("run_id", sa.String(64), nullable=False),
        ],
        "edition_entry": [
            sa.Column("edition_code", sa.String(8), primary_key=True),
            sa.Column("indicator_code", sa.String(8), primary_key=True),
            sa.Column("group_code", sa.String(16), primary_key=True),
            sa.Column("area_code", sa.String(16), primary_key=True),
            sa.Column("reference_date", sa.Date),
            sa.Column("period_code", sa.String(8)),
            sa.Column("value", sa.Float),
            sa.Column("obs_status", sa.String(16)),
            sa.Column("ci_low", sa.Float),
            sa.Column("ci_high", sa.Float),
            sa.Column("n", sa.Float),
            sa.Column("previous_value", sa.Float),
            sa.Column("previous_reference_date", sa.Date),
            sa.Column("change", sa.Float),
            sa.Column("status", sa.String(24)),
            sa.Column("target_value", sa.Float),
            sa.Column("target_year", sa.Integer),
            sa.Column("on_track", sa.Boolean),
            sa.Column("trend_per_year", sa.Float),
            sa.Column("gap", sa.Float),
            sa.Column("years_to_parity", sa.Float),
            sa.Column("run_id", sa.String(64), nullable=False),
        ],
    }


def upgrade() -> None:
    for name, columns in _tables().items():
        op.create_table(name, *columns, schema=core_schema())
    create_views(VIEWS)


def downgrade() -> None:
    drop_views(VIEWS)
    for name in reversed(list(_tables())):
        op.drop_table(name, schema=core_schema())
