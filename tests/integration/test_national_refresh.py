"""The national refresh end to end: three municipalities' landing zones (`landing/<code>/…`), one
StatBank request for all of them, their work in local worker processes or on a real Dask
cluster (a `dask scheduler` and two `dask worker` processes on 127.0.0.1), one load."""

from __future__ import annotations

import os
import pickle
import shutil
from datetime import date
from pathlib import Path

import pytest
from dask_cluster import dask_cluster

CODES = ["101", "147", "751"]
EDITION = "2012-S2"
PUBLIC_VIEWS = ["barometer_observation", "barometer_edition", "barometer_delivery", "barometer_comparison"]
KEY = "barometer-test-key"


@pytest.fixture(scope="session")
def national_landing(tmp_path_factory) -> Path:
    from barometer.demo.national import write_national

    landing = tmp_path_factory.mktemp("national") / "landing"
    write_national(landing, CODES, seed=2013)
    return landing


def national_refresh(
    url: str, landing: Path, statbank_url: str, *options: str, codes: str = ",".join(CODES), orchestration="local"
):
    """`barometer refresh --municipality …` in this process, its environment restored after."""
    from typer.testing import CliRunner

    from barometer.cli import app

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BAROMETER_PSEUDONYM_KEY", KEY)
        patch.setenv("BAROMETER_ORCHESTRATION", orchestration)
        for variable in ("BAROMETER_MUNICIPALITY", "BAROMETER_DASK_ADDRESS", "BAROMETER_DASK_WORKERS"):
            patch.delenv(variable, raising=False)
        before = dict(os.environ)
        arguments = ["refresh", "--edition", EDITION, "--landing", str(landing), "--warehouse", url]
        arguments += ["--statbank-url", statbank_url, "--municipality", codes, *options]
        result = CliRunner().invoke(app, arguments)
        assert {k: v for k, v in os.environ.items() if k.startswith("BAROMETER_")} == {
            k: v for k, v in before.items() if k.startswith("BAROMETER_")
        }, "the CLI passes its options down, never through the environment"
    assert result.exit_code == 0, result.output[-3000:]
    return result.output


@pytest.fixture(scope="session")
def national_warehouse(tmp_path_factory, national_landing, statbank_url) -> str:
    """The three municipalities refreshed once, in local worker processes (read-only for tests)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('national-warehouse') / 'barometer.sqlite'}"
    national_refresh(url, national_landing, statbank_url)
    return url


def public_rows(query, url: str) -> dict[str, list[tuple]]:
    """Every public view's rows without the run ids (which name the run that wrote them)."""
    rows = {}
    for view in PUBLIC_VIEWS:
        frame = query(url, f"SELECT * FROM {view}")
        frame = frame.drop(columns=[c for c in frame.columns if c == "run_id"])
        rows[view] = sorted(map(repr, frame.itertuples(index=False)))
    return rows


@pytest.mark.integration
def test_every_municipality_and_the_country_are_published(national_warehouse, query):
    listed = query(national_warehouse, "SELECT municipality_code, municipality_name FROM barometer_municipality")
    assert dict(listed.itertuples(index=False)) == {"101": "København", "147": "Frederiksberg", "751": "Aarhus"}
    edition = query(
        national_warehouse,
        f"SELECT DISTINCT municipality_code FROM barometer_edition WHERE edition_code = '{EDITION}'",
    )
    assert set(edition["municipality_code"]) == {*CODES, "000"}

    # 1.2 all Denmark: the published municipal numerators over their denominators, never a mean.
    cells = query(
        national_warehouse,
        "SELECT municipality_code, area_code, reference_date, numerator, denominator, value, obs_status "
        "FROM barometer_observation WHERE indicator_code = '1.2' AND measure = 'value' "
        "AND group_code = 'non_western' AND reference_date = '2012-10-01'",
    )
    cities = cells[cells["area_code"].isin(CODES) & (cells["obs_status"] == "normal")]
    national = cells[cells["area_code"] == "000"].iloc[0]
    assert len(cities) == 3
    assert national["value"] == pytest.approx(100 * cities["numerator"].sum() / cities["denominator"].sum())
    assert national["value"] != pytest.approx(cities["value"].mean())


@pytest.mark.integration
def test_ranks_follow_the_indicators_direction(national_warehouse, query):
    ranked = query(
        national_warehouse,
        "SELECT municipality_code, value, rank, ranked FROM barometer_comparison "
        f"WHERE edition_code = '{EDITION}' AND indicator_code = '1.4' AND group_code = 'all'",
    )
    assert ranked["ranked"].tolist() == [3, 3, 3]
    by_value = ranked.sort_values("value")["municipality_code"].tolist()  # 1.4: lower is better
    assert ranked.set_index("municipality_code").loc[by_value, "rank"].tolist() == [1, 2, 3]


@pytest.mark.integration
def test_a_real_dask_cluster_gives_the_same_warehouse(
    prefect_server, national_warehouse, national_landing, statbank_url, query, tmp_path
):
    """Local run and Prefect run (prefect-dask's DaskTaskRunner) on one real cluster: both
    warehouses equal the one the local worker processes made."""
    from prefect.settings import PREFECT_API_URL

    environment = {**os.environ, "BAROMETER_PSEUDONYM_KEY": KEY, "PREFECT_API_URL": PREFECT_API_URL.value()}
    with dask_cluster(workers=2, env=environment) as address:
        for orchestration in ("local", "prefect"):
            url = f"sqlite:///{tmp_path / f'{orchestration}.sqlite'}"
            output = national_refresh(
                url, national_landing, statbank_url, "--dask-address", address, orchestration=orchestration
            )
            assert "751 Aarhus: 8 sources loaded" in output
            assert public_rows(query, url) == public_rows(query, national_warehouse), orchestration


@pytest.mark.integration
def test_refreshing_one_municipality_touches_no_other(
    national_warehouse, national_landing, statbank_url, query, tmp_path
):
    """Frederiksberg's survey is withdrawn and Frederiksberg refreshed alone: Copenhagen's and
    Aarhus' rows, run ids included, are exactly as they were."""
    warehouse = tmp_path / "barometer.sqlite"
    shutil.copy(national_warehouse.removeprefix("sqlite:///"), warehouse)
    url = f"sqlite:///{warehouse}"
    landing = tmp_path / "landing"
    shutil.copytree(national_landing, landing)
    shutil.rmtree(landing / "147" / "survey")
    tables = ["observation", "edition_entry", "delivery", "source_input", "area"]
    before = {table: others_rows(query, url, table) for table in tables}
    assert all(before.values())

    national_refresh(url, landing, statbank_url, codes="147")

    assert {table: others_rows(query, url, table) for table in tables} == before
    assert not query(url, "SELECT * FROM source_input WHERE municipality_code = '147' AND source = 'survey'").empty


def others_rows(query, url: str, table: str) -> list[str]:
    """Copenhagen's and Aarhus' rows of an internal table, exactly (run ids included)."""
    frame = query(url, f"SELECT * FROM {table} WHERE municipality_code IN ('101', '751')")
    return sorted(map(repr, frame.itertuples(index=False)))


def test_a_worker_returns_aggregates_only(national_landing, statbank_url, monkeypatch):
    """What crosses from a worker to the flow: observations and delivery records, no person."""
    from barometer.flows.fanout import work_elsewhere
    from barometer.flows.municipality import MunicipalityWork

    monkeypatch.setenv("BAROMETER_PSEUDONYM_KEY", KEY)
    part = work_elsewhere(
        MunicipalityWork("147", national_landing / "147", date(2012, 12, 31), {}, ["youth_education"])
    )
    assert not part.failures, part.failures
    assert part.results["youth_education"].staged == []
    carried = pickle.dumps(part)
    assert b"person_id" not in carried
    assert set(part.observations.columns) >= {"indicator_code", "area_code", "value", "obs_status"}
    assert set(part.observations["area_code"]) == {"147"}
