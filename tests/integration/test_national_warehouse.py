"""One warehouse, many municipalities: a load replaces only its own municipalities' rows (the
others stay byte-identical), the national rows follow every load, areas and districts come per
municipality from config, and the comparison ranks municipalities by the indicator's direction.
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest
from barometer.config import load_catalogue, load_districts
from barometer.transforms.editions import edition_entries
from barometer.transforms.national import national_shares, share_indicators
from barometer.warehouse.database import connect, initialise
from barometer.warehouse.load import Aggregates, LoadRequest, load
from barometer.warehouse.read import read_source_inputs

pytestmark = pytest.mark.integration  # real SQLite and PostgreSQL warehouses

EDITION = "2012-S2"
OCTOBER = date(2012, 10, 1)
CATALOGUE = load_catalogue()
TABLES = ["observation", "edition_entry", "delivery", "source_input", "area"]


def share(indicator, group, area, numerator, denominator, delivery, persons=True):
    """One published share, as a transform and disclosure control leave it."""
    return {
        "indicator_code": indicator,
        "measure": "value",
        "group_code": group,
        "area_code": area,
        "reference_date": OCTOBER,
        "value": 100 * numerator / denominator,
        "numerator": float(numerator),
        "denominator": float(denominator),
        "n": float(denominator) if persons else np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "obs_status": "normal",
        "delivery_id": delivery,
    }


def suppressed(indicator, group, area, delivery):
    row = share(indicator, group, area, 1, 3, delivery)
    return {**row, **dict.fromkeys(["value", "numerator", "denominator", "n"], np.nan), "obs_status": "suppressed"}


def delivery(delivery_id, municipality_code, sha="0"):
    return {
        "delivery_id": delivery_id,
        "municipality_code": municipality_code,
        "source": "youth_education",
        "name": "youth_education/status.xlsx",
        "reference_date": OCTOBER,
        "sha256": sha * 64,
        "rows": 50,
        "status": "loaded",
        "message": None,
        "key_version": "abcd1234",
    }


# Youth education of Danish-origin youth (1.2, higher is better) and schools deviating from
# their district (1.3, lower is better; counted in schools, so n is empty).
COPENHAGEN = [
    share("1.2", "danish", "101", 40, 50, "d101"),
    share("1.2", "danish", "101-03", 12, 20, "d101"),
    share("1.3", "all", "101", 2, 10, "d101", persons=False),
]
FREDERIKSBERG = [
    share("1.2", "danish", "147", 30, 40, "d147"),
    share("1.3", "all", "147", 1, 10, "d147", persons=False),
]
AARHUS = [suppressed("1.2", "danish", "751", "d751")]


def request(run_id, codes, observations, deliveries, inputs=None):
    return LoadRequest(
        run_id=run_id,
        edition=EDITION,
        edition_end=date(2012, 12, 31),
        started_at=datetime(2013, 1, 5, 9, tzinfo=timezone.utc),
        status="completed",
        summary="test load",
        catalogue=CATALOGUE,
        municipality_codes=codes,
        deliveries=deliveries,
        observations=pd.DataFrame(observations),
        source_inputs=inputs or {(code, "youth_education"): (f"fingerprint-{code}", "{}") for code in codes},
    )


def load_all(url, *requests):
    engine = connect(url)
    try:
        initialise(engine)
        for one in requests:
            codes = one.municipality_codes
            load(
                engine,
                one,
                lambda stored, codes=codes: edition_entries(stored, EDITION, CATALOGUE, "101", codes),
                Aggregates(share_indicators(CATALOGUE), lambda city_rows: national_shares(city_rows, CATALOGUE)),
            )
    finally:
        engine.dispose()


def internal(query, url, table, where="1 = 1"):
    prefix = "" if url.startswith("sqlite") else "barometer_core."
    frame = query(url, f"SELECT * FROM {prefix}{table} WHERE {where}")
    return frame.sort_values(list(frame.columns[:5]), ignore_index=True)


def rows_of(query, url, code):
    return {table: internal(query, url, table, f"municipality_code = '{code}'") for table in TABLES}


def national(query, url):
    frame = query(
        url,
        "SELECT indicator_code, value, numerator, denominator, n, municipalities_covered, run_id "
        "FROM barometer_observation WHERE area_code = '000' ORDER BY indicator_code",
    )
    return with_none(frame)


def with_none(frame):
    """Missing values as None, however the driver and pandas spell them."""
    return frame.astype(object).where(frame.notna(), None)


FIRST_LOADS = (
    request("run-101", ["101"], COPENHAGEN, [delivery("d101", "101")]),
    request("run-147", ["147"], FREDERIKSBERG, [delivery("d147", "147")]),
    request("run-751", ["751"], AARHUS, [delivery("d751", "751")]),
)


def test_refreshing_one_municipality_leaves_every_other_byte_identical(warehouse_url, query):
    load_all(warehouse_url, *FIRST_LOADS)
    before = {code: rows_of(query, warehouse_url, code) for code in ["101", "751"]}
    assert len(before["101"]["observation"]) == 3 and len(before["101"]["delivery"]) == 1

    changed = [share("1.2", "danish", "147", 33, 40, "d147b"), FREDERIKSBERG[1]]
    refresh = request("run-147b", ["147"], changed, [delivery("d147b", "147", sha="1")], None)
    refresh.source_inputs = {("147", "youth_education"): ("fingerprint-147b", "{}")}
    load_all(warehouse_url, refresh)

    for code, tables in before.items():
        for table, frame in rows_of(query, warehouse_url, code).items():
            pd.testing.assert_frame_equal(frame, tables[table], check_exact=True, obj=f"{code} {table}")
    frederiksberg = internal(query, warehouse_url, "observation", "area_code = '147' AND indicator_code = '1.2'")
    assert frederiksberg[["value", "delivery_id", "run_id"]].values.tolist() == [[82.5, "d147b", "run-147b"]]
    # the national share follows: (40 + 33) / (50 + 40), Aarhus's suppressed cell left out
    assert national(query, warehouse_url).to_dict("records")[0] == {
        "indicator_code": "1.2",
        "value": pytest.approx(100 * 73 / 90),
        "numerator": 73.0,
        "denominator": 90.0,
        "n": 90.0,
        "municipalities_covered": 2,
        "run_id": "run-147b",
    }
    assert sorted(read_source_inputs(connect(warehouse_url), "147")) == ["youth_education"]
    assert read_source_inputs(connect(warehouse_url), "147")["youth_education"][0] == "fingerprint-147b"


def test_a_load_of_several_municipalities_at_once_equals_their_loads_one_by_one(warehouse_url, query, tmp_path):
    together = request(
        "run-all",
        ["101", "147", "751"],
        COPENHAGEN + FREDERIKSBERG + AARHUS,
        [delivery("d101", "101"), delivery("d147", "147"), delivery("d751", "751")],
    )
    load_all(warehouse_url, together)
    alone = f"sqlite:///{tmp_path / 'one_by_one.sqlite'}"
    load_all(alone, *FIRST_LOADS)
    for table in TABLES:
        one_by_one = internal(query, alone, table).drop(columns="run_id", errors="ignore")
        at_once = internal(query, warehouse_url, table).drop(columns="run_id", errors="ignore")
        pd.testing.assert_frame_equal(at_once, one_by_one, check_dtype=False, obj=table)


def test_a_rerun_keeps_every_run_id(warehouse_url, query):
    load_all(warehouse_url, *FIRST_LOADS)
    before = {table: internal(query, warehouse_url, table) for table in TABLES}
    again = request("run-again", ["147"], FREDERIKSBERG, [delivery("d147", "147")])
    load_all(warehouse_url, again)
    for table, frame in before.items():
        pd.testing.assert_frame_equal(internal(query, warehouse_url, table), frame, obj=table)


def test_national_values_sum_numerators_and_denominators_of_published_municipalities(warehouse_url, query):
    load_all(warehouse_url, *FIRST_LOADS)
    rows = national(query, warehouse_url).drop(columns="run_id")
    assert rows.to_dict("records") == [
        {
            "indicator_code": "1.2",
            "value": pytest.approx(100 * 70 / 90),
            "numerator": 70.0,
            "denominator": 90.0,
            "n": 90.0,
            "municipalities_covered": 2,
        },
        {
            "indicator_code": "1.3",
            "value": pytest.approx(15.0),
            "numerator": 3.0,
            "denominator": 20.0,
            "n": None,
            "municipalities_covered": 2,
        },
    ]
    entries = query(
        warehouse_url,
        "SELECT value, status, municipality_name, municipalities_covered FROM barometer_edition "
        "WHERE area_code = '000' AND indicator_code = '1.2'",
    )
    assert entries.to_dict("records") == [
        {
            "value": pytest.approx(100 * 70 / 90),
            "status": "first_measurement",
            "municipality_name": "Hele landet",
            "municipalities_covered": 2,
        }
    ]


def test_one_municipality_has_no_national_figure(warehouse_url, query):
    load_all(warehouse_url, FIRST_LOADS[0])
    assert national(query, warehouse_url).empty
    assert (
        query(warehouse_url, "SELECT count(*) AS rows FROM barometer_edition WHERE area_code = '000'")["rows"][0] == 0
    )


def test_areas_and_districts_come_per_municipality_from_config(warehouse_url, query):
    load_all(warehouse_url, *FIRST_LOADS)
    municipalities = query(warehouse_url, "SELECT * FROM barometer_municipality ORDER BY municipality_code")
    assert municipalities.to_dict("records") == [
        {"municipality_code": "101", "municipality_name": "København", "region": "Hovedstaden", "districts": 10},
        {"municipality_code": "147", "municipality_name": "Frederiksberg", "region": "Hovedstaden", "districts": 0},
        {"municipality_code": "751", "municipality_name": "Aarhus", "region": "Midtjylland", "districts": 0},
    ]
    observed = query(
        warehouse_url,
        "SELECT area_code, area_name, area_level, municipality_code, municipality_name, delivery_name "
        "FROM barometer_observation WHERE indicator_code = '1.2' ORDER BY area_code",
    )
    assert with_none(observed).values.tolist() == [
        ["000", "Hele landet", "country", "000", "Hele landet", None],
        ["101", "København", "municipality", "101", "København", "youth_education/status.xlsx"],
        ["101-03", "Nørrebro", "district", "101", "København", "youth_education/status.xlsx"],
        ["147", "Frederiksberg", "municipality", "147", "Frederiksberg", "youth_education/status.xlsx"],
        ["751", "Aarhus", "municipality", "751", "Aarhus", "youth_education/status.xlsx"],
    ]
    deliveries = query(warehouse_url, "SELECT municipality_name FROM barometer_delivery ORDER BY municipality_code")
    assert deliveries["municipality_name"].tolist() == ["København", "Frederiksberg", "Aarhus"]


def test_the_comparison_ranks_published_municipalities_by_the_indicators_direction(warehouse_url, query):
    load_all(warehouse_url, *FIRST_LOADS)
    compared = query(
        warehouse_url,
        "SELECT indicator_code, municipality_code, municipality_name, value, national_value, "
        "national_municipalities, difference, rank, ranked FROM barometer_comparison "
        f"WHERE edition_code = '{EDITION}' AND indicator_code IN ('1.2', '1.3') "
        "ORDER BY indicator_code, municipality_code",
    )
    youth, schools = 100 * 70 / 90, 15.0
    expected = [
        ["1.2", "101", "København", 80.0, youth, 2, 80.0 - youth, 1, 2],
        ["1.2", "147", "Frederiksberg", 75.0, youth, 2, 75.0 - youth, 2, 2],
        ["1.2", "751", "Aarhus", None, youth, 2, None, None, 2],
        ["1.3", "101", "København", 20.0, schools, 2, 5.0, 2, 2],  # lower is better
        ["1.3", "147", "Frederiksberg", 10.0, schools, 2, -5.0, 1, 2],
        ["1.3", "751", "Aarhus", None, None, None, None, None, 0],  # not measured there
    ]
    rows = with_none(compared).values.tolist()
    assert [row[:3] + row[5:6] + row[7:] for row in rows] == [row[:3] + row[5:6] + row[7:] for row in expected]
    for got, want in zip(rows, expected, strict=True):
        for column in (3, 4, 6):
            assert got[column] == (None if want[column] is None else pytest.approx(want[column]))


def test_a_one_municipality_load_names_nothing_new(warehouse_url, query):
    """Today's caller: districts for the one municipality, deliveries and inputs without one."""
    plain = LoadRequest(
        run_id="run-1",
        edition=EDITION,
        edition_end=date(2012, 12, 31),
        started_at=datetime(2013, 1, 5, 9, tzinfo=timezone.utc),
        status="completed",
        summary="test load",
        catalogue=CATALOGUE,
        districts=load_districts("101"),
        deliveries=[{k: v for k, v in delivery("d101", "101").items() if k != "municipality_code"}],
        observations=pd.DataFrame(COPENHAGEN),
        source_inputs={"youth_education": ("fingerprint", "{}")},
    )
    engine = connect(warehouse_url)
    initialise(engine)
    load(
        engine,
        plain,
        lambda stored: edition_entries(stored, EDITION, CATALOGUE, "101"),
        Aggregates(share_indicators(CATALOGUE), lambda city_rows: national_shares(city_rows, CATALOGUE)),
    )
    assert read_source_inputs(engine, "101") == {"youth_education": ("fingerprint", "{}")}
    engine.dispose()
    assert internal(query, warehouse_url, "delivery")["municipality_code"].tolist() == ["101"]
    assert internal(query, warehouse_url, "run")["municipality_codes"].tolist() == ["101"]


def test_rows_of_a_municipality_outside_the_load_are_refused(warehouse_url):
    stray = request("run-x", ["101"], COPENHAGEN + FREDERIKSBERG, [delivery("d101", "101")])
    with pytest.raises(ValueError, match=r"observations of municipalities \['147'\] outside"):
        load_all(warehouse_url, stray)
