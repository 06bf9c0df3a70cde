"""The warehouse's tables (internal) and views (public), for SQLite and PostgreSQL alike.

On PostgreSQL the tables live in schema `barometer_core`, which analysts cannot read; the public
views live in `public`, so both databases reach them without a schema prefix. On SQLite (one
file, no schemas) the same tables are created unprefixed via SQLAlchemy's schema translation.

Every row that belongs to a municipality names it (`municipality_code`, Statistics Denmark's
code; '000' for the national rows), so one warehouse holds any number of municipalities and a
load can replace one municipality's rows without touching another's.
"""

from __future__ import annotations

import re

from sqlalchemy import Boolean, Column, Date, DateTime, Float, Index, Integer, MetaData, String, Table, Text

CORE_SCHEMA = "barometer_core"
PUBLIC_VIEWS = [
    "barometer_observation",
    "barometer_edition",
    "barometer_delivery",
    "indicator_catalogue",
    "barometer_municipality",
    "barometer_comparison",
]

metadata = MetaData(schema=CORE_SCHEMA)

goal = Table(
    "goal",
    metadata,
    Column("goal", Integer, primary_key=True),
    Column("name_da", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("policy_area", Text, nullable=False),
)

indicator = Table(
    "indicator",
    metadata,
    Column("indicator_code", String(8), primary_key=True),
    Column("goal", Integer, nullable=False),
    Column("name_da", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("unit", String(32), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("source", String(64), nullable=False),
    Column("frequency", String(32), nullable=False),
    Column("reference_date", Text),
    Column("method", Text),
    Column("target_value", Float),
    Column("target_year", Integer),
    Column("target_group", String(16)),
    Column("measured", Boolean, nullable=False),
)

population_group = Table(
    "population_group",
    metadata,
    Column("group_code", String(16), primary_key=True),
    Column("name_da", Text, nullable=False),
    Column("name_en", Text, nullable=False),
)

area = Table(
    "area",
    metadata,
    Column("area_code", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("level", String(16), nullable=False),  # country | municipality | district
    # Columns added by a revision come last, as the revision adds them.
    Column("municipality_code", String(3), nullable=False),  # '000' for the country
    Column("region", Text),  # the municipality's region; NULL for the country
)

run = Table(
    "run",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("edition_code", String(8), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # completed | failed
    Column("summary", Text, nullable=False),
    Column("municipality_codes", Text, nullable=False),  # the set it loaded, comma-separated
)

delivery = Table(
    "delivery",
    metadata,
    Column("delivery_id", String(32), primary_key=True),  # with municipality_code: a StatBank table serves several
    Column("source", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("reference_date", Date),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer),
    Column("status", String(16), nullable=False),  # loaded | rejected | superseded
    Column("message", Text),
    Column("key_version", String(16)),
    Column("run_id", String(64), nullable=False),  # the run that first saw it
    Column("municipality_code", String(3), primary_key=True),
)

observation = Table(
    "observation",
    metadata,
    Column("indicator_code", String(8), primary_key=True),
    Column("measure", String(32), primary_key=True),
    Column("group_code", String(16), primary_key=True),
    Column("area_code", String(16), primary_key=True),
    Column("reference_date", Date, primary_key=True),
    Column("period_code", String(8), nullable=False),
    Column("value", Float),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("n", Float),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("obs_status", String(16), nullable=False),
    Column("delivery_id", String(32)),
    Column("run_id", String(64), nullable=False),  # the run that first produced this value
    Column("municipality_code", String(3), nullable=False),  # the area's; '000' for national rows
    # National rows summed over municipalities: how many the sum covers. NULL on every other row
    # (a municipality's own, or a national figure delivered as such, e.g. StatBank's '000').
    Column("municipalities_covered", Integer),
    Index("observation_by_municipality", "municipality_code", "indicator_code", "reference_date"),
)

edition_entry = Table(
    "edition_entry",
    metadata,
    Column("edition_code", String(8), primary_key=True),
    Column("indicator_code", String(8), primary_key=True),
    Column("group_code", String(16), primary_key=True),
    Column("area_code", String(16), primary_key=True),
    Column("reference_date", Date),
    Column("period_code", String(8)),
    Column("value", Float),
    Column("obs_status", String(16)),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("n", Float),
    Column("previous_value", Float),
    Column("previous_reference_date", Date),
    Column("change", Float),
    Column("status", String(24)),  # NULL where the latest value is suppressed
    Column("target_value", Float),
    Column("target_year", Integer),
    Column("on_track", Boolean),
    Column("trend_per_year", Float),
    Column("gap", Float),
    Column("years_to_parity", Float),
    Column("run_id", String(64), nullable=False),
    Column("municipality_code", String(3), nullable=False),
)

source_input = Table(
    "source_input",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # flows/inputs.py: what it was computed from
    Column("outcome", Text, nullable=False),  # its deliveries and rejections, as last reported (JSON)
    Column("run_id", String(64), nullable=False),
    Column("municipality_code", String(3), primary_key=True),
)

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def safe_identifier(name: str) -> str:
    """Identifiers from configuration are checked against a whitelist pattern, never quoted in."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not an allowed SQL identifier")
    return name
