"""The real flow, end to end: demo landing zone + StatBank stand-in on 127.0.0.1 → SQLite and
PostgreSQL, checked through the public views against the spec's published figures."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

# Spec, indicator 1.2: (Danish, non-Western) × (completed or enrolled, completed, enrolled, n).
PUBLISHED_1_2 = {
    2010: {"danish": (84.8, 18.9, 65.9, 11610), "non_western": (83.3, 13.0, 70.3, 3679)},
    2011: {"danish": (83.7, 18.9, 64.8, 11978), "non_western": (79.6, 14.3, 65.3, 3820)},
    2012: {"danish": (83.3, 18.8, 64.5, 12329), "non_western": (77.2, 14.3, 62.9, 3962)},
}


def refresh(edition: str, landing: Path, warehouse_url: str, statbank_url: str):
    from barometer.flows.refresh import barometer_refresh

    return barometer_refresh(edition, str(landing), warehouse_url, statbank_url, return_state=True)


def checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def published(query, url: str) -> dict[str, pd.DataFrame]:
    views = ["barometer_observation", "barometer_edition", "barometer_delivery", "indicator_catalogue"]
    return {
        v: query(url, f"SELECT * FROM {v}")
        .sort_values(list(query(url, f"SELECT * FROM {v}").columns[:6]))
        .reset_index(drop=True)
        for v in views
    }


def test_refresh_reproduces_published_figures_and_is_idempotent(
    prefect_server, pseudonym_key, landing, statbank_url, warehouse_url, find_demo_cprs, query
):
    before = checksums(landing)
    state = refresh("2012-S2", landing, warehouse_url, statbank_url)
    assert state.is_completed(), state.message
    first = published(query, warehouse_url)

    obs = first["barometer_observation"]
    city = obs[obs["area_code"] == "101"]
    youth = city[city["indicator_code"] == "1.2"].set_index(["reference_date", "group_code", "measure"])
    for year, groups in PUBLISHED_1_2.items():
        for group, (headline, completed, enrolled, n) in groups.items():
            day = f"{year}-10-01"
            assert round(youth.loc[(day, group, "value"), "value"], 1) == headline
            assert round(youth.loc[(day, group, "completed"), "value"], 1) == completed
            assert round(youth.loc[(day, group, "enrolled"), "value"], 1) == enrolled
            assert youth.loc[(day, group, "value"), "denominator"] == n

    unemployment = city[(city["indicator_code"] == "2.1") & (city["measure"] == "value")]
    assert unemployment.set_index("reference_date").loc["2012-11-30", "value"] == pytest.approx(10.8, abs=0.05)
    assert unemployment["group_code"].unique().tolist() == ["non_western"]
    assert (pd.to_datetime(obs["reference_date"]) <= "2012-12-31").all(), "nothing after the edition's end"

    edition = first["barometer_edition"]
    youth_edition = edition[(edition["indicator_code"] == "1.2") & (edition["area_code"] == "101")]
    non_western = youth_edition.set_index("group_code").loc["non_western"]
    assert round(non_western["value"], 1) == 77.2 and round(non_western["previous_value"], 1) == 79.6
    assert non_western["status"] == "regress"
    assert edition.set_index("indicator_code").loc["7.1", "status"] == "not_measured"

    second = refresh("2012-S2", landing, warehouse_url, statbank_url)
    assert second.is_completed(), second.message
    for view, frame in published(query, warehouse_url).items():
        pd.testing.assert_frame_equal(frame, first[view], obj=view)
    assert checksums(landing) == before, "landing files are never modified"
    for view, frame in first.items():
        assert not find_demo_cprs(frame.to_csv()), f"a CPR number in {view}"
