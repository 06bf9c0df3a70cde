"""`barometer backfill` produces every edition in the range, oldest first, each as a
barometer-refresh subflow of one barometer-backfill run. The command runs in this process (the
session's Prefect server); the landing zone is the demo's safety folder (plus StatBank): enough
to check each edition's values and reference dates."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName, FlowRunFilterParentFlowRunId
from prefect.client.schemas.sorting import FlowRunSort
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from barometer.cli import app

pytestmark = pytest.mark.integration


def city_edition(url: str) -> pd.DataFrame:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return pd.read_sql(
                text(
                    "SELECT edition_code, indicator_code, reference_date, value, previous_value "
                    "FROM barometer_edition WHERE area_code = '101' AND value IS NOT NULL"
                ),
                connection,
            )
    finally:
        engine.dispose()


def test_backfill_refreshes_each_edition_in_order(
    prefect_server, pseudonym_key, demo_data, statbank_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("BAROMETER_DATA_DOCS_DIR", str(tmp_path / "docs"))
    landing = tmp_path / "landing"
    shutil.copytree(demo_data / "landing" / "safety", landing / "safety")
    warehouse = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    done = CliRunner().invoke(
        app,
        [
            "backfill",
            "--from",
            "2012-S1",
            "--to",
            "2012-S2",
            "--landing",
            str(landing),
            "--warehouse",
            warehouse,
            "--statbank-url",
            statbank_url,
        ],
    )
    assert done.exit_code == 0, done.output[-3000:]
    assert "Backfill 2012-S1 to 2012-S2: 2 of 2 editions refreshed." in done.stdout

    edition = city_edition(warehouse)
    edition["reference_date"] = edition["reference_date"].astype(str).str[:10]
    edition = edition.set_index(["edition_code", "indicator_code"])
    # Before 2017 StatBank's employment is RAS201's, one status a year at the end of November:
    # S1 takes the previous year's, S2 its own; the annual safety index likewise (2011's by 30
    # June). Spec: 2.1 = 10.8 in 2012; 5.1 = 5 and 5.2 = 7 areas in 2012.
    assert edition["reference_date"].to_dict() == {
        ("2012-S1", "2.1"): "2011-11-30",
        ("2012-S1", "5.1"): "2011-12-31",
        ("2012-S1", "5.2"): "2011-12-31",
        ("2012-S2", "2.1"): "2012-11-30",
        ("2012-S2", "5.1"): "2012-12-31",
        ("2012-S2", "5.2"): "2012-12-31",
    }
    assert edition.loc["2012-S2", "value"].round(1).to_dict() == {"2.1": 10.8, "5.1": 5.0, "5.2": 7.0}
    assert (edition.loc["2012-S2", "previous_value"] == edition.loc["2012-S1", "value"]).all(), (
        "each S2 previous value is the value S1 published"
    )

    with get_client(sync_client=True) as client:
        (backfill,) = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=["backfill-2012-S1-to-2012-S2"]))
        )
        refreshes = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[backfill.id])),
            sort=FlowRunSort.START_TIME_ASC,
        )
    assert backfill.state.is_completed()
    assert [run.name for run in refreshes] == ["refresh-2012-S1", "refresh-2012-S2"]
