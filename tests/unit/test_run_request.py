"""A run's parameters: parsed once, explicit options over the environment over the defaults."""

from datetime import date
from pathlib import Path

import pytest
from barometer.config import Edition, RunRequest

from barometer.timing import StageTimings, stage


def test_an_edition_is_parsed_once_and_knows_its_dates():
    edition = Edition.parse("2012-S2")
    assert (edition.year, edition.half, str(edition)) == (2012, 2, "2012-S2")
    assert (edition.start, edition.end) == (date(2012, 7, 1), date(2012, 12, 31))
    assert Edition.latest_complete(date(2026, 3, 15)).code == "2025-S2"
    assert [e.code for e in Edition.range(Edition.parse("2011-S2"), Edition.parse("2012-S2"))] == [
        "2011-S2",
        "2012-S1",
        "2012-S2",
    ]
    with pytest.raises(ValueError, match="edition '2012-S3' is not a half-year like '2012-S2'"):
        Edition.parse("2012-S3")
    with pytest.raises(ValueError, match="comes after"):
        Edition.range(Edition.parse("2013-S1"), Edition.parse("2012-S2"))


def test_options_win_over_the_environment_which_wins_over_the_defaults():
    environment = {"BAROMETER_LANDING_DIR": "/data/landing", "BAROMETER_MUNICIPALITY": "147,751"}
    assert RunRequest.build({}, edition="2012-S2").landing_dir == Path("landing")
    from_environment = RunRequest.build(environment, edition="2012-S2")
    assert from_environment.landing_dir == Path("/data/landing")
    assert from_environment.municipalities == ("147", "751") and from_environment.first_municipality == "147"
    given = RunRequest.build(environment, edition="2012-S2", landing_dir="elsewhere", municipalities="101")
    assert (given.landing_dir, given.municipalities) == (Path("elsewhere"), ("101",))


def test_stages_exclude_the_stages_nested_in_them():
    timings = StageTimings()
    with timings.stage("read"):
        with stage("pseudonymise"):  # a reader's stage counts towards the run it is nested in
            pass
    stage_outside = StageTimings()
    with stage("pseudonymise"):  # outside any run's stage: not counted anywhere
        pass
    totals = timings.totals()
    assert set(totals) == {"read", "pseudonymise"} and stage_outside.totals() == {}
    assert all(seconds >= 0 for seconds in totals.values())
