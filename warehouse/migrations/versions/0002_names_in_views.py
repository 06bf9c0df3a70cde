"""Group and area names in the observation and edition views.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-08

Analysts with read-only access see only the public views, and the names of population groups and
districts lived in internal tables: reports, exports and maps could show codes only. Both views
gain group_name_da, group_name_en, area_name and area_level as their last columns, so queries
that select the existing columns are unaffected.
"""

# Frozen once released: spell out tables and views here, never import them from warehouse.schema,
# so that replaying this revision always builds what it built when it was written.
from barometer.warehouse.migrations import create_views, drop_views, replace_views, views_of

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

VIEWS = {
    "barometer_observation": """
SELECT o.indicator_code, o.measure, o.group_code, o.area_code, o.period_code, o.reference_date,
       o.value, o.numerator, o.denominator, o.n, o.ci_low, o.ci_high, o.obs_status,
       o.delivery_id, d.name AS delivery_name, o.run_id,
       g.name_da AS group_name_da, g.name_en AS group_name_en, a.name AS area_name,
       a.level AS area_level
FROM {core}observation o
LEFT JOIN {core}delivery d ON d.delivery_id = o.delivery_id
LEFT JOIN {core}population_group g ON g.group_code = o.group_code
LEFT JOIN {core}area a ON a.area_code = o.area_code""",
    "barometer_edition": """
SELECT e.edition_code, e.indicator_code, i.goal, i.name_da AS indicator_name_da,
       i.name_en AS indicator_name_en, i.unit, i.direction, e.group_code, e.area_code,
       e.reference_date, e.period_code, e.value, e.obs_status, e.ci_low, e.ci_high, e.n,
       e.previous_value, e.previous_reference_date, e.change, e.status, e.target_value,
       e.target_year, e.on_track, e.trend_per_year, e.gap, e.years_to_parity, e.run_id,
       g.name_da AS group_name_da, g.name_en AS group_name_en, a.name AS area_name,
       a.level AS area_level
FROM {core}edition_entry e
JOIN {core}indicator i ON i.indicator_code = e.indicator_code
LEFT JOIN {core}population_group g ON g.group_code = e.group_code
LEFT JOIN {core}area a ON a.area_code = e.area_code""",
}


def upgrade() -> None:
    replace_views(VIEWS)


def downgrade() -> None:
    """Columns cannot be removed from a view in place: drop and recreate them as 0001 had them."""
    drop_views(VIEWS)
    create_views({name: views_of("0001")[name] for name in VIEWS})
