"""Municipality is a dimension: one warehouse holds any number of municipalities and the country.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10

Every row that belongs to a municipality says which (`municipality_code`); a delivery and a
source's recorded inputs are keyed by municipality too, since a StatBank table serves several.
Existing rows get the warehouse's one municipality (what its area codes begin with, 101 for
Copenhagen), areas their region from config/municipalities.csv. National rows summed over
municipalities record how many they cover (`municipalities_covered`). The public views gain
`municipality_code` and `municipality_name` (and, on observations and editions,
`municipalities_covered`) as their last columns; two views are new: `barometer_municipality`
and `barometer_comparison`.
"""

# Frozen once released: spell out columns and views here, never import them from warehouse.schema,
# so that replaying this revision always builds what it built when it was written.
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from barometer.config.municipalities import municipalities
from barometer.warehouse.migrations import core_schema, create_views, drop_views, replace_views, views_of

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VIEWS = {
    "barometer_observation": """
SELECT o.indicator_code, o.measure, o.group_code, o.area_code, o.period_code, o.reference_date,
       o.value, o.numerator, o.denominator, o.n, o.ci_low, o.ci_high, o.obs_status,
       o.delivery_id, d.name AS delivery_name, o.run_id,
       g.name_da AS group_name_da, g.name_en AS group_name_en, a.name AS area_name,
       a.level AS area_level, o.municipality_code, m.name AS municipality_name,
       o.municipalities_covered
FROM {core}observation o
LEFT JOIN {core}delivery d ON d.delivery_id = o.delivery_id AND d.municipality_code = o.municipality_code
LEFT JOIN {core}population_group g ON g.group_code = o.group_code
LEFT JOIN {core}area a ON a.area_code = o.area_code
LEFT JOIN {core}area m ON m.area_code = o.municipality_code""",
    "barometer_edition": """
SELECT e.edition_code, e.indicator_code, i.goal, i.name_da AS indicator_name_da,
       i.name_en AS indicator_name_en, i.unit, i.direction, e.group_code, e.area_code,
       e.reference_date, e.period_code, e.value, e.obs_status, e.ci_low, e.ci_high, e.n,
       e.previous_value, e.previous_reference_date, e.change, e.status, e.target_value,
       e.target_year, e.on_track, e.trend_per_year, e.gap, e.years_to_parity, e.run_id,
       g.name_da AS group_name_da, g.name_en AS group_name_en, a.name AS area_name,
       a.level AS area_level, e.municipality_code, m.name AS municipality_name,
       o.municipalities_covered
FROM {core}edition_entry e
JOIN {core}indicator i ON i.indicator_code = e.indicator_code
LEFT JOIN {core}population_group g ON g.group_code = e.group_code
LEFT JOIN {core}area a ON a.area_code = e.area_code
LEFT JOIN {core}area m ON m.area_code = e.municipality_code
LEFT JOIN {core}observation o ON o.indicator_code = e.indicator_code AND o.measure = 'value'
     AND o.group_code = e.group_code AND o.area_code = e.area_code
     AND o.reference_date = e.reference_date""",
    "barometer_delivery": """
SELECT d.delivery_id, d.source, d.name, d.reference_date, d.sha256, d.rows, d.status, d.message,
       d.key_version, d.run_id, d.municipality_code, m.name AS municipality_name
FROM {core}delivery d
LEFT JOIN {core}area m ON m.area_code = d.municipality_code""",
    "barometer_municipality": """
SELECT m.municipality_code, m.name AS municipality_name, m.region,
       (SELECT count(*) FROM {core}area d
        WHERE d.municipality_code = m.municipality_code AND d.level = 'district') AS districts
FROM {core}area m
WHERE m.level = 'municipality'""",
    # Each municipality's city-wide edition value beside the national value of the same
    # indicator, group and reference date, ranked among the municipalities published for that
    # date (1 = best by the indicator's direction; ties share a rank).
    "barometer_comparison": """
WITH municipal AS (
    SELECT e.edition_code, e.indicator_code, i.name_da AS indicator_name_da, i.unit, i.direction,
           e.group_code, e.municipality_code, e.reference_date, e.period_code, e.value, e.obs_status
    FROM {core}edition_entry e
    JOIN {core}indicator i ON i.indicator_code = e.indicator_code
    JOIN {core}area a ON a.area_code = e.area_code AND a.level = 'municipality'
),
ranked AS (
    SELECT municipal.*,
           CASE WHEN value IS NOT NULL THEN RANK() OVER (
               PARTITION BY edition_code, indicator_code, group_code, reference_date, value IS NULL
               ORDER BY CASE WHEN direction = 'lower' THEN value ELSE -value END
           ) END AS rank,
           COUNT(value) OVER (
               PARTITION BY edition_code, indicator_code, group_code, reference_date
           ) AS ranked
    FROM municipal
)
SELECT r.edition_code, r.indicator_code, r.indicator_name_da, r.unit, r.direction, r.group_code,
       r.municipality_code, m.name AS municipality_name, r.reference_date, r.period_code,
       r.value, r.obs_status, n.value AS national_value,
       n.municipalities_covered AS national_municipalities, r.value - n.value AS difference,
       r.rank, r.ranked
FROM ranked r
JOIN {core}area m ON m.area_code = r.municipality_code
LEFT JOIN {core}observation n ON n.indicator_code = r.indicator_code AND n.measure = 'value'
     AND n.group_code = r.group_code AND n.area_code = '000'
     AND n.reference_date = r.reference_date""",
}
CHANGED_VIEWS = ["barometer_observation", "barometer_edition", "barometer_delivery"]
# The warehouse's one municipality before this revision: what its area codes begin with ('101',
# '101-03'), else the code's default then (101) for a warehouse that holds no area yet.
ITS_MUNICIPALITY = "COALESCE((SELECT min(substr(area_code, 1, 3)) FROM {core}area), '101')"
# table -> (column filled from what, primary key after this revision or None: unchanged)
MUNICIPALITY_OF = {
    "area": ("substr(area_code, 1, 3)", None),
    "observation": ("substr(area_code, 1, 3)", None),
    "edition_entry": ("substr(area_code, 1, 3)", None),
    "delivery": (ITS_MUNICIPALITY, ["delivery_id", "municipality_code"]),
    "source_input": (ITS_MUNICIPALITY, ["source", "municipality_code"]),
}


def _prefixed(sql: str) -> str:
    schema = core_schema()
    return sql.replace("{core}", f"{schema}." if schema else "")


def _table(name: str) -> str:
    return _prefixed("{core}" + name)


def _without_key(table: str) -> sa.Table:
    """The table as it stands, its columns stripped of the primary key: what SQLite's batch copy
    starts from, so the copy has only the key `_batch` gives it (a reflected key column would
    keep its flag beside the new key)."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=op.get_bind(), schema=core_schema())
    columns = [sa.Column(c.name, c.type, nullable=c.nullable) for c in reflected.columns]
    return sa.Table(table, sa.MetaData(), *columns, schema=core_schema())


@contextmanager
def _batch(table: str, primary_key: list[str] | None = None) -> Iterator[BatchOperations]:
    """A batch alteration of `table`, giving it `primary_key` if one is named. SQLite recreates
    the table; PostgreSQL alters it, dropping the key it named <table>_pkey first."""
    sqlite = core_schema() is None
    copy_from = _without_key(table) if primary_key and sqlite else None
    with op.batch_alter_table(table, schema=core_schema(), copy_from=copy_from) as batch:
        if primary_key:  # first: dropping a column of the old key would drop the key with it
            if not sqlite:
                batch.drop_constraint(f"{table}_pkey", type_="primary")
            batch.create_primary_key(f"{table}_pkey", primary_key)
        yield batch


def _add_filled_column(table: str, column: sa.Column, filled_with: str, primary_key: list[str] | None) -> None:
    """Add a NOT NULL column to a table with rows: nullable first, filled, then NOT NULL (and, where
    it joins the key, the new primary key)."""
    op.add_column(table, column, schema=core_schema())
    op.execute(f"UPDATE {_table(table)} SET {column.name} = {_prefixed(filled_with)}")
    with _batch(table, primary_key) as batch:
        batch.alter_column(column.name, existing_type=column.type, nullable=False)


def _complete_areas() -> None:
    """Each area gets its municipality's region, and a municipality with district rows only its
    own row (name from config), so the new views name it before the next load does."""
    area = sa.table(
        "area",
        *(sa.column(c) for c in ["area_code", "name", "level", "municipality_code", "region"]),
        schema=core_schema(),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(area.c.area_code, area.c.municipality_code)).all()
    areas, known = {row.area_code for row in rows}, municipalities()
    for code in sorted({row.municipality_code for row in rows} & set(known)):
        home = known[code]
        bind.execute(sa.update(area).where(area.c.municipality_code == code).values(region=home.region))
        if code not in areas:
            row = {"area_code": code, "name": home.name, "level": "municipality", "municipality_code": code}
            bind.execute(sa.insert(area).values(**row, region=home.region))


def upgrade() -> None:
    if core_schema() is None:  # SQLite recreates the tables below: no view may name them meanwhile
        drop_views(CHANGED_VIEWS)
    op.add_column("area", sa.Column("region", sa.Text), schema=core_schema())
    for table, (filled_with, primary_key) in MUNICIPALITY_OF.items():
        _add_filled_column(table, sa.Column("municipality_code", sa.String(3)), filled_with, primary_key)
    _complete_areas()
    _add_filled_column("run", sa.Column("municipality_codes", sa.Text), ITS_MUNICIPALITY, None)
    op.add_column("observation", sa.Column("municipalities_covered", sa.Integer), schema=core_schema())
    op.create_index(
        "observation_by_municipality",
        "observation",
        ["municipality_code", "indicator_code", "reference_date"],
        schema=core_schema(),
    )
    replace_views({name: VIEWS[name] for name in CHANGED_VIEWS})
    create_views({name: select for name, select in VIEWS.items() if name not in CHANGED_VIEWS})


def downgrade() -> None:
    """Back to one municipality: every municipality's rows but the first one's are dropped."""
    drop_views(VIEWS)
    first = _prefixed(ITS_MUNICIPALITY)
    for table in ["observation", "edition_entry", "delivery", "source_input", "area"]:
        op.execute(f"DELETE FROM {_table(table)} WHERE municipality_code <> {first}")
    op.drop_index("observation_by_municipality", "observation", schema=core_schema())
    for table, (_, primary_key) in MUNICIPALITY_OF.items():
        with _batch(table, primary_key and [c for c in primary_key if c != "municipality_code"]) as batch:
            batch.drop_column("municipality_code")
    for table, column in [("observation", "municipalities_covered"), ("area", "region"), ("run", "municipality_codes")]:
        with _batch(table) as batch:
            batch.drop_column(column)
    create_views({name: views_of("0002").get(name) or views_of("0001")[name] for name in CHANGED_VIEWS})
