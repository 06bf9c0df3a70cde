"""The catalogue says which source computes each indicator: the first source it names."""

from __future__ import annotations

import pytest
from barometer.config import load_catalogue
from barometer.sources.registry import all_sources, by_name


@pytest.mark.parametrize("source", all_sources())
def test_each_transform_computes_exactly_the_indicators_the_catalogue_gives_it(source):
    assert sorted(load_catalogue().indicators_of(source)) == sorted(by_name(source).transform().INDICATORS)


def test_staff_data_draws_on_statbank():
    from barometer.flows.municipality import dependencies

    assert dependencies("workforce") == ["employment"]
    assert dependencies("employment") == []
