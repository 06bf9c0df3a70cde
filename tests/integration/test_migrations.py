"""The warehouse schema under Alembic: an existing warehouse, whether at revision 0001 or made by
the code before migrations, is upgraded by the next refresh's initialise without losing a row,
on SQLite and PostgreSQL; and the newest revision builds exactly what warehouse/schema.py says."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from barometer.warehouse.database import (
    BASELINE,
    CORE_SCHEMA,
    MIGRATIONS,
    alembic_config,
    connect,
    initialise,
    internal_schema,
)
from sqlalchemy import MetaData, Table, insert, inspect, text

pytestmark = pytest.mark.integration  # real SQLite and PostgreSQL warehouses

# A warehouse in miniature: kindergarten use (4.1) of minority children in two districts, one
# of them suppressed, as a refresh of 2012-S2 would have loaded it.
RUN = {
    "run_id": "run-1",
    "edition_code": "2012-S2",
    "started_at": datetime(2013, 1, 5, 9, tzinfo=timezone.utc),
    "finished_at": datetime(2013, 1, 5, 9, 1, tzinfo=timezone.utc),
    "status": "completed",
    "summary": "ok",
}
DELIVERY = {
    "delivery_id": "d1",
    "source": "childcare",
    "name": "childcare/pladsanvisning_5f240c",
    "reference_date": date(2012, 11, 1),
    "sha256": "a" * 64,
    "rows": 6231,
    "status": "loaded",
    "message": None,
    "key_version": "abcd1234",
    "run_id": "run-1",
}
NØRREBRO = {
    "indicator_code": "4.1",
    "measure": "value",
    "group_code": "minority",
    "area_code": "101-03",
    "reference_date": date(2012, 11, 1),
    "period_code": "2012-S2",
    "value": 86.4,
    "numerator": 432.0,
    "denominator": 500.0,
    "n": 500.0,
    "ci_low": None,
    "ci_high": None,
    "obs_status": "normal",
    "delivery_id": "d1",
    "run_id": "run-1",
}
INDRE_BY = {
    **NØRREBRO,
    "area_code": "101-01",
    "value": None,
    "numerator": None,
    "denominator": None,
    "n": None,
    "obs_status": "suppressed",
}
ROWS = {
    "goal": [
        {
            "goal": 4,
            "name_da": "Flere skal have gavn af kommunens tilbud",
            "name_en": "More people benefit",
            "policy_area": "En hånd til udsatte grupper og områder",
        }
    ],
    "indicator": [
        {
            "indicator_code": "4.1",
            "goal": 4,
            "name_da": "Andel 3-5-årige i børnehave",
            "name_en": "Children aged 3-5 in kindergarten",
            "unit": "percent",
            "direction": "higher",
            "source": "childcare",
            "frequency": "half-yearly",
            "reference_date": "February and November",
            "method": "Share enrolled.",
            "target_value": None,
            "target_year": None,
            "target_group": None,
            "measured": True,
        }
    ],
    "population_group": [{"group_code": "minority", "name_da": "Minoritet", "name_en": "Minority"}],
    "area": [
        {"area_code": "101-01", "name": "Indre By", "level": "district"},
        {"area_code": "101-03", "name": "Nørrebro", "level": "district"},
    ],
    "run": [RUN],
    "delivery": [DELIVERY],
    "observation": [NØRREBRO, INDRE_BY],
    "edition_entry": [
        {
            "edition_code": "2012-S2",
            "indicator_code": "4.1",
            "group_code": "minority",
            "area_code": "101-03",
            "reference_date": date(2012, 11, 1),
            "period_code": "2012-S2",
            "value": 86.4,
            "obs_status": "normal",
            "n": 500.0,
            "previous_value": 85.0,
            "previous_reference_date": date(2012, 2, 1),
            "change": 1.4,
            "status": "progress",
            "run_id": "run-1",
        }
    ],
}
NEW_COLUMNS = ["group_name_da", "group_name_en", "area_name", "area_level"]


def head() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def build_at_baseline(url: str, *, without_version_table: bool = False, revision: str = BASELINE, rows=ROWS) -> None:
    """A warehouse at revision 0001 (or `revision`) holding ROWS. Without its version table it is
    what the code before migrations left: revision 0001 is that code's schema, table for table
    and view for view."""
    engine = connect(url)
    with engine.begin() as connection:
        schema = internal_schema(connection)
        if schema:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        command.upgrade(alembic_config(connection), revision)
        for name, table_rows in rows.items():
            connection.execute(insert(Table(name, MetaData(), autoload_with=connection, schema=schema)), table_rows)
        if without_version_table:
            connection.execute(text(f"DROP TABLE {schema + '.' if schema else ''}alembic_version"))
    engine.dispose()


def version(query, url: str) -> list[str]:
    prefix = "" if url.startswith("sqlite") else f"{CORE_SCHEMA}."
    return query(url, f"SELECT version_num FROM {prefix}alembic_version")["version_num"].tolist()


def assert_upgraded_without_loss(query, url: str, before: dict[str, pd.DataFrame]) -> None:
    """At head, every view shows what it showed before, plus group and area names."""
    assert version(query, url) == [head()]
    for view, old in before.items():
        new = query(url, f"SELECT * FROM {view} ORDER BY 1, 2, 3, 4")
        pd.testing.assert_frame_equal(new[old.columns], old, obj=view)
    observations = query(
        url,
        "SELECT area_code, value, obs_status, delivery_name, group_name_da, group_name_en, "
        "area_name, area_level FROM barometer_observation ORDER BY area_code",
    )
    pd.testing.assert_frame_equal(
        observations,
        pd.DataFrame(
            [
                {
                    "area_code": "101-01",
                    "value": None,
                    "obs_status": "suppressed",
                    "delivery_name": "childcare/pladsanvisning_5f240c",
                    "group_name_da": "Minoritet",
                    "group_name_en": "Minority",
                    "area_name": "Indre By",
                    "area_level": "district",
                },
                {
                    "area_code": "101-03",
                    "value": 86.4,
                    "obs_status": "normal",
                    "delivery_name": "childcare/pladsanvisning_5f240c",
                    "group_name_da": "Minoritet",
                    "group_name_en": "Minority",
                    "area_name": "Nørrebro",
                    "area_level": "district",
                },
            ]
        ),
        check_dtype=False,
    )
    edition = query(url, "SELECT indicator_name_da, value, change, status, area_name FROM barometer_edition")
    assert edition.to_dict("records") == [
        {
            "indicator_name_da": "Andel 3-5-årige i børnehave",
            "value": 86.4,
            "change": 1.4,
            "status": "progress",
            "area_name": "Nørrebro",
        }
    ]
    assert query(url, "SELECT summary FROM " + ("" if url.startswith("sqlite") else f"{CORE_SCHEMA}.") + "run")[
        "summary"
    ].tolist() == ["ok"]


def views_of(query, url: str) -> dict[str, pd.DataFrame]:
    views = ["barometer_observation", "barometer_edition", "barometer_delivery", "indicator_catalogue"]
    return {view: query(url, f"SELECT * FROM {view} ORDER BY 1, 2, 3, 4") for view in views}


@pytest.mark.parametrize("made_by", ["revision 0001", "code before migrations"])
def test_refresh_initialise_upgrades_existing_warehouse_without_loss(warehouse_url, query, made_by):
    build_at_baseline(warehouse_url, without_version_table=made_by == "code before migrations")
    before = views_of(query, warehouse_url)
    assert not set(NEW_COLUMNS) & set(before["barometer_observation"].columns)
    assert len(before["barometer_observation"]) == 2

    engine = connect(warehouse_url)
    initialise(engine)  # what the next refresh does first
    initialise(engine)  # and every one after it: nothing more to do
    engine.dispose()
    assert_upgraded_without_loss(query, warehouse_url, before)


def test_downgrade_restores_the_baseline_views(warehouse_url, query):
    build_at_baseline(warehouse_url)
    before = views_of(query, warehouse_url)
    engine = connect(warehouse_url)
    initialise(engine)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), BASELINE)
    engine.dispose()
    assert version(query, warehouse_url) == [BASELINE]
    for view, frame in views_of(query, warehouse_url).items():
        pd.testing.assert_frame_equal(frame, before[view], obj=view)


def test_newest_revision_matches_schema_py(warehouse_url):
    """Fails when warehouse/schema.py changes without a revision doing the same (or vice versa)."""
    engine = connect(warehouse_url)
    initialise(engine)
    with engine.connect() as connection:
        command.check(alembic_config(connection))  # raises AutogenerateDiffsDetected, naming the change
        tables = set(inspect(connection).get_table_names(schema=internal_schema(connection)))
    engine.dispose()
    assert "alembic_version" in tables, f"the version table lives beside the internal tables ({CORE_SCHEMA})"


# What revision 0003 added: a source's recorded inputs.
SOURCE_INPUT = {"source": "childcare", "fingerprint": "f" * 64, "outcome": "{}", "run_id": "run-1"}
MUNICIPALITY_COLUMNS = ["municipality_code", "municipality_name"]


def test_a_copenhagen_warehouse_at_0003_becomes_one_municipality_of_many_without_loss(warehouse_url, query):
    build_at_baseline(warehouse_url, revision="0003", rows={**ROWS, "source_input": [SOURCE_INPUT]})
    before = views_of(query, warehouse_url)
    engine = connect(warehouse_url)
    initialise(engine)
    engine.dispose()

    assert version(query, warehouse_url) == [head()]
    for view, old in before.items():
        new = query(warehouse_url, f"SELECT * FROM {view} ORDER BY 1, 2, 3, 4")
        pd.testing.assert_frame_equal(new[old.columns], old, obj=view)
    for view in ["barometer_observation", "barometer_edition", "barometer_delivery"]:
        named = query(warehouse_url, f"SELECT DISTINCT {', '.join(MUNICIPALITY_COLUMNS)} FROM {view}")
        assert named.values.tolist() == [["101", "København"]], view
    prefix = "" if warehouse_url.startswith("sqlite") else f"{CORE_SCHEMA}."
    for table in ["observation", "edition_entry", "delivery", "source_input", "area"]:
        codes = query(warehouse_url, f"SELECT DISTINCT municipality_code FROM {prefix}{table}")
        assert codes["municipality_code"].tolist() == ["101"], table
    assert query(warehouse_url, f"SELECT municipality_codes FROM {prefix}run")["municipality_codes"].tolist() == ["101"]
    assert query(warehouse_url, "SELECT * FROM barometer_municipality").to_dict("records") == [
        {"municipality_code": "101", "municipality_name": "København", "region": "Hovedstaden", "districts": 2}
    ]
    inputs = query(warehouse_url, f"SELECT source, fingerprint, run_id FROM {prefix}source_input")
    assert inputs.values.tolist() == [["childcare", "f" * 64, "run-1"]]
