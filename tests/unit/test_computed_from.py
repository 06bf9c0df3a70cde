"""Every source that releases columns once validated (`computed_from` in config/sources.yaml)
computes, from the narrowed and compacted tables the flow holds, exactly the observations of its
whole tables: on the demo's deliveries, which hold the untidy values (non-grades, unknown
origins, children in no institution) that dtype compaction could trip over."""

from __future__ import annotations

import pandas as pd
import pytest
from barometer.flows.context import RunContext
from barometer.flows.ingest import read_and_validate
from barometer.sources.landing import find_deliveries
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.registry import by_name, computed_from, file_sources, landing_folder
from barometer.sources.staged import concatenated

KEY = PseudonymKey("computed-from-test-key")
NARROWED = ["childcare", "youth_education", "school_enrolment", "grades", "workforce"]


def test_the_list_above_is_every_narrowed_source():
    assert sorted(s for s in file_sources() if computed_from(s)) == sorted(NARROWED)


@pytest.mark.parametrize("source", NARROWED)
def test_narrowed_tables_give_the_whole_tables_observations(source, demo_data):
    deliveries = find_deliveries(source, demo_data / "landing" / landing_folder(source), ignore=[])
    assert deliveries, f"the demo has {source} deliveries"
    kept = [read_and_validate(delivery, KEY, "101", RunContext()) for delivery in deliveries]
    whole = [by_name(source).read(delivery, KEY, "101") for delivery in deliveries]
    for narrowed in kept:
        for name, columns in computed_from(source).items():
            assert list(narrowed.tables[name].columns) == columns

    def tables(staged):
        names = staged[0].tables
        return {name: concatenated([s.tables[name] for s in staged]) for name in names}

    transform = by_name(source).transform()
    computed = transform.compute(tables(kept), "101")
    expected = transform.compute(tables(whole), "101")
    assert not expected.empty
    pd.testing.assert_frame_equal(computed, expected)
