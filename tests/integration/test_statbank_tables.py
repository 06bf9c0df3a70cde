"""Employment from two StatBank tables, RAS201 (annual, to 2016) and KAS201 (quarterly, from
2017), against the demo stand-in on 127.0.0.1: the switch year, a changed or unavailable table
(the other still publishes), many municipalities in one request, and each table asked once per
process. Expected values are computed here straight from the stand-in's BULK files."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pandas as pd
import pytest
from barometer.config import StatBankOptions, source_config
from barometer.demo.employment import SHAPES, write_statbank
from barometer.demo.statbank_server import bulk_path, serve, start, tableinfo_path
from barometer.flows import ingest
from barometer.flows.context import RunContext
from barometer.flows.steps import attempt
from barometer.sources import employment
from barometer.sources.employment import fetch
from barometer.sources.statbank import StatBankClient, StatBankUnavailable
from barometer.transforms.employment import compute
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from barometer.cli import app

BANDS = source_config("employment")["tables"][0]["ages"]
# Editions over the switch: (edition, its end, the reference date its 2.1 must have, the table).
SWITCH = [
    ("2016-S1", date(2016, 6, 30), date(2015, 11, 30), "RAS201"),
    ("2016-S2", date(2016, 12, 31), date(2016, 11, 30), "RAS201"),
    ("2017-S1", date(2017, 6, 30), date(2017, 3, 31), "KAS201"),
    ("2017-S2", date(2017, 12, 31), date(2017, 9, 30), "KAS201"),
]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("statbank")
    write_statbank(data_dir)
    return data_dir


def client(url: str) -> StatBankClient:
    return StatBankClient(url, connect_timeout=1.0, read_timeout=30.0, retries=1, backoff_factor=0.0)


def bulk(data_dir, table: str) -> pd.DataFrame:
    frame = pd.read_csv(bulk_path(data_dir, table), sep=";", dtype=str)
    return frame.assign(INDHOLD=frame["INDHOLD"].astype(float))


def expected_gap(data_dir, table: str, area: str, year: int, quarter: str | None = None) -> float:
    """Spec 2.1 from the raw table: unemployed / (employed + unemployed), 16-64, both sexes;
    non-Western (25, 35) minus all origins. RAS201 has no totals: its parts are summed."""
    codes = SHAPES[table]["statuses"]
    employed, unemployed = (code for code, label in codes.items() if label in ("Beskæftigede", "Arbejdsløse"))
    frame = bulk(data_dir, table)
    frame = frame[(frame["OMRÅDE"] == area) & (frame["TID"] == str(year)) & frame["ALDER"].isin(BANDS)]
    if quarter:
        frame = frame[frame["PERIODE"] == quarter]
    totals = table == "KAS201"
    frame = frame[frame["KØN"].isin(["TOT"] if totals else ["M", "K"])]

    def rate(origins: list[str]) -> float:
        cells = frame[frame["HERKOMST"].isin(origins)].groupby("SOCIO")["INDHOLD"].sum()
        return 100 * cells[unemployed] / (cells[employed] + cells[unemployed])

    every_origin = ["TOT"] if totals else ["999", "24", "25", "34", "35"]
    return rate(["25", "35"]) - rate(every_origin)


def edition_value(answer, until: date) -> tuple[date, float, str]:
    """The edition's 2.1: its latest headline by `until`, and the delivery it came from."""
    tables = {"employment": pd.concat([s.tables["employment"] for s in answer.staged], ignore_index=True)}
    headline = compute(tables, "101").query("measure == 'value'").set_index("reference_date")["value"]
    latest = max(day for day in headline.index if day <= until)
    source = next(s.delivery.name for s in answer.staged if latest in set(s.tables["employment"]["reference_date"]))
    return latest, headline[latest], source


def test_a_backfill_over_the_switch_year_is_one_continuous_series(demo_dir):
    server, url = start(demo_dir)
    memo: dict = {}
    try:
        for edition, until, reference_date, table in SWITCH:
            answer = fetch(client(url), ["101"], until, answers=memo)
            latest, value, source = edition_value(answer, until)
            assert (latest, source) == (reference_date, f"StatBank {table}"), edition
            year, quarter = reference_date.year, "K3" if reference_date.month == 9 else "K1"
            expected = expected_gap(demo_dir, table, "101", year, quarter if table == "KAS201" else None)
            assert value == pytest.approx(expected, abs=1e-9), edition
        assert server.received == [
            ("tableinfo", "RAS201"),
            ("data", "RAS201"),
            ("tableinfo", "KAS201"),
            ("data", "KAS201"),
        ]
    finally:
        server.shutdown()
        server.server_close()
    tables = {"employment": pd.concat([s.tables["employment"] for s in answer.staged], ignore_index=True)}
    dates = compute(tables, "101").query("measure == 'value'")["reference_date"].tolist()
    assert dates == [date(year, 11, 30) for year in range(2008, 2017)] + [date(2017, 3, 31), date(2017, 9, 30)]


def changed(demo_dir, tmp_path, table: str, variable: str, change) -> object:
    """A copy of the stand-in's tables with `change(values)` applied to one variable's values."""
    target = tmp_path / "statbank"
    shutil.copytree(demo_dir, target)
    info = json.loads(tableinfo_path(target, table).read_text(encoding="utf-8"))
    for entry in info["variables"]:
        if entry["id"] == variable:
            entry["values"] = change(entry["values"])
    tableinfo_path(target, table).write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    "variable, change, rule",
    [
        (
            "HERKOMST",
            lambda values: [v for v in values if v["id"] != "35"],
            "table RAS201 variable HERKOMST has value 35",
        ),
        (
            "SOCIO",
            lambda values: [{**v, "text": "Ledige personer"} if v["text"] == "Arbejdsløse" else v for v in values],
            "table RAS201 variable SOCIO has one value for unemployed ('Arbejdsløse' or 'Arbejdsløse i alt' or "
            "'Ledige')",
        ),
    ],
    ids=["vanished origin code", "relabelled status"],
)
def test_a_changed_ras201_is_named_and_kas201_still_publishes(demo_dir, tmp_path, variable, change, rule):
    with serve(changed(demo_dir, tmp_path, "RAS201", variable, change)) as url:
        answer = fetch(client(url), ["101"], date(2017, 12, 31))
    [failure] = answer.failures
    assert (failure.file, failure.column, failure.rule) == ("StatBank RAS201", variable, rule)
    assert [s.delivery.name for s in answer.staged] == ["StatBank KAS201"]
    for staged in answer.staged:
        ingest.validate_statbank("employment", staged, RunContext())
    result = ingest.statbank_result("employment", answer, None, date(2017, 12, 31))
    assert [(row["name"], row["status"]) for row in result.deliveries] == [
        ("StatBank RAS201", "rejected"),
        ("StatBank KAS201", "loaded"),
    ]
    assert rule in result.errors[0]
    assert sorted(result.delivery_of()) == [date(2017, 3, 31), date(2017, 6, 30), date(2017, 9, 30), date(2017, 12, 31)]


@pytest.mark.parametrize("down, up, first", [("RAS201", "KAS201", 2017), ("KAS201", "RAS201", 2008)])
def test_one_table_unavailable_leaves_the_others_years(demo_dir, down, up, first):
    with serve(demo_dir, unavailable=[down]) as url:
        answer = fetch(client(url), ["101"], date(2017, 12, 31))
    [failure] = answer.failures
    assert isinstance(failure, StatBankUnavailable) and failure.file == f"StatBank {down}"
    assert "HTTP 500" in failure.detail
    [staged] = answer.staged
    assert staged.delivery.name == f"StatBank {up}"
    assert min(staged.tables["employment"]["reference_date"]).year == first


def test_a_failed_table_is_asked_once_per_process(demo_dir, monkeypatch):
    server, url = start(demo_dir, unavailable=["RAS201"])
    statbank = StatBankOptions(url, backoff_factor=0.0, deadline_seconds=None)
    try:
        context = RunContext.across_editions()
        outcomes = [
            attempt(edition, lambda u=until: ingest.fetch_statbank(employment, statbank, ["101"], u, context))
            for edition, until, _, _ in SWITCH
        ]
        asked = [request for request in server.received if request[1] == "RAS201"]
        tries = source_config("employment")["client"]["retries"] + 1
        assert asked == [("tableinfo", "RAS201")] * tries, "not asked again edition after edition"
    finally:
        server.shutdown()
        server.server_close()
    assert [error.file for _, error in outcomes[:2]] == ["StatBank RAS201"] * 2, "no other table has 2016"
    assert [answer.failures[0].file for answer, _ in outcomes[2:]] == ["StatBank RAS201"] * 2
    with pytest.raises(StatBankUnavailable):
        ingest.fetch_statbank(
            employment, statbank, ["101"], date(2016, 12, 31), RunContext()
        )  # a context without memos


def test_many_municipalities_in_one_request(demo_dir):
    server, url = start(demo_dir)
    try:
        [many] = fetch(client(url), ["000", "101", "147"], date(2013, 12, 31)).staged
        assert server.received == [("tableinfo", "RAS201"), ("data", "RAS201")]
        [one] = fetch(client(url), "101", date(2013, 12, 31)).staged
    finally:
        server.shutdown()
        server.server_close()
    cells = many.tables["employment"]
    assert sorted(set(cells["area_code"])) == ["000", "101", "147"]
    key = ["status", "origin", "age", "sex", "period"]
    copenhagen = cells[cells["area_code"] == "101"].drop(columns="_row").reset_index(drop=True)
    assert copenhagen.equals(one.tables["employment"].drop(columns="_row").reset_index(drop=True))
    # 000 is all Denmark: the sum of every municipality's cells
    raw = bulk(demo_dir, "RAS201")
    municipal = raw[raw["OMRÅDE"] != "000"].groupby(["SOCIO", "HERKOMST", "ALDER", "KØN", "TID"])["INDHOLD"].sum()
    country = raw[raw["OMRÅDE"] == "000"].set_index(["SOCIO", "HERKOMST", "ALDER", "KØN", "TID"])["INDHOLD"]
    assert country.sort_index().equals(municipal.sort_index())
    assert len(cells[cells["area_code"] == "000"].drop_duplicates(key)) == 2 * 5 * 10 * 2 * 6


def test_a_selection_over_the_cell_limit_is_split_by_municipality(demo_dir, monkeypatch):
    areas = ["000", "101", "147"]
    server, url = start(demo_dir)
    try:
        [whole] = fetch(client(url), areas, date(2013, 12, 31)).staged
        # RAS201 2008-2013 holds 2 x 5 x 10 x 2 x 6 = 1,200 cells a municipality
        monkeypatch.setitem(source_config("employment"), "max_cells_per_request", 2 * 1200)
        [split] = fetch(client(url), areas, date(2013, 12, 31)).staged
    finally:
        server.shutdown()
        server.server_close()
    assert server.received.count(("data", "RAS201")) == 1 + 2
    assert split.tables["employment"]["_row"].is_unique
    columns = ["area_code", "status", "origin", "age", "sex", "period", "count"]
    assert split.tables["employment"][columns].equals(whole.tables["employment"][columns])


def test_a_refresh_without_ras201_keeps_its_years_in_the_warehouse(
    demo_data, demo_dir, tmp_path, monkeypatch, pseudonym_key
):
    """RAS201's observations stand as loaded when it fails; KAS201's are recomputed."""
    monkeypatch.setenv("BAROMETER_ORCHESTRATION", "local")
    monkeypatch.setenv("BAROMETER_STATBANK_BACKOFF_FACTOR", "0")
    landing = tmp_path / "landing"
    shutil.copytree(demo_data / "landing" / "safety", landing / "safety")
    warehouse = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"

    def refresh(**unavailable) -> int:
        with serve(demo_dir, **unavailable) as url:
            done = CliRunner().invoke(
                app,
                [
                    "refresh",
                    "--edition",
                    "2017-S2",
                    "--landing",
                    str(landing),
                    "--warehouse",
                    warehouse,
                    "--statbank-url",
                    url,
                ],
            )
        assert done.exit_code in (0, 1), done.output[-3000:]
        print(done.output[-3000:])
        return done.exit_code

    def employment() -> pd.DataFrame:
        engine = create_engine(warehouse)
        try:
            with engine.connect() as connection:
                return pd.read_sql(
                    text(
                        "SELECT o.reference_date, o.measure, o.group_code, o.value, d.name FROM observation o "
                        "JOIN delivery d ON d.delivery_id = o.delivery_id "
                        "WHERE o.indicator_code = '2.1' AND o.area_code = '101' ORDER BY 1, 2, 3"
                    ),
                    connection,
                )
        finally:
            engine.dispose()

    assert refresh() == 0
    before = employment()
    assert set(before["name"]) == {"StatBank RAS201", "StatBank KAS201"}
    assert refresh(unavailable=["RAS201"]) == 1
    after = employment()
    assert after.equals(before)


@pytest.mark.integration
def test_a_warehouse_backfill_over_the_switch_is_one_series_without_gaps(statbank_url, pseudonym_key, tmp_path):
    """`barometer backfill` 2016-S1 … 2017-S2 against the stand-in (no file deliveries): each
    reference date of 2.1 once, RAS201's Novembers then KAS201's quarters, each edition showing
    the latest by its end."""
    landing, warehouse = tmp_path / "landing", f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    landing.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BAROMETER_ORCHESTRATION", "local")
        arguments = ["backfill", "--from", "2016-S1", "--to", "2017-S2", "--landing", str(landing)]
        result = CliRunner().invoke(app, [*arguments, "--warehouse", warehouse, "--statbank-url", statbank_url])
    assert result.exit_code == 0, result.output[-3000:]
    series = "indicator_code = '2.1' AND area_code = '101'"
    engine = create_engine(warehouse)
    with engine.connect() as connection:
        observed = text(f"SELECT reference_date FROM barometer_observation WHERE {series} AND measure = 'value'")
        dates = sorted(str(day)[:10] for (day,) in connection.execute(observed))
        shown = dict(
            connection.execute(text(f"SELECT edition_code, reference_date FROM barometer_edition WHERE {series}")).all()
        )
    engine.dispose()
    novembers = [f"{year}-11-30" for year in range(2008, 2017)]
    assert dates == novembers + ["2017-03-31", "2017-09-30"]
    assert {edition: str(day)[:10] for edition, day in shown.items()} == {
        "2016-S1": "2015-11-30",
        "2016-S2": "2016-11-30",
        "2017-S1": "2017-03-31",
        "2017-S2": "2017-09-30",
    }
