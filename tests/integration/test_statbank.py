"""The StatBank client against real HTTP servers on 127.0.0.1: scripted failures, and the demo
stand-in serving recorded tables end to end. Nothing here calls api.statbank.dk."""

from __future__ import annotations

import json
from datetime import date

import pytest
import requests
from barometer.demo.employment import write_statbank
from barometer.demo.statbank_server import main, save_table, serve, tableinfo_path
from barometer.sources import employment
from barometer.sources.employment import validate
from barometer.sources.statbank import Deadline, StatBankClient, StatBankError, StatBankUnavailable

BULK = "OMRÅDE;TID;INDHOLD\n101;2012;37,7\n".encode()
SELECTION = {"OMRÅDE": ["101"], "Tid": ["2012"]}


def answer(
    status: int, body: bytes | dict, content_type: str = "text/csv; charset=utf-8", delay: float = 0.0
) -> tuple[int, str, bytes, float]:
    if isinstance(body, dict):
        return status, "application/json; charset=utf-8", json.dumps(body).encode(), delay
    return status, content_type, body, delay


def client(url: str, retries: int = 2, read_timeout: float = 5.0) -> StatBankClient:
    return StatBankClient(url, connect_timeout=1.0, read_timeout=read_timeout, retries=retries, backoff_factor=0.0)


def test_a_503_is_retried_and_the_data_returned(stub_statbank):
    with stub_statbank(answer(503, b"busy"), answer(200, BULK)) as (url, received):
        assert client(url).data_bulk("KAS201", SELECTION) == BULK
    assert len(received) == 2
    assert received[0] == {
        "table": "KAS201",
        "format": "BULK",
        "lang": "da",
        "valuePresentation": "Code",
        "variables": [{"code": "OMRÅDE", "values": ["101"]}, {"code": "Tid", "values": ["2012"]}],
    }


def test_a_400_names_the_api_error_and_is_not_retried(stub_statbank):
    error_body = {"errorTypeCode": "EXTRACT-NOTFOUND", "message": "Can't find value: 999 (OMRÅDE)"}
    with stub_statbank(answer(400, error_body)) as (url, received), pytest.raises(StatBankError) as error:
        client(url).data_bulk("KAS201", {"OMRÅDE": ["999"], "Tid": ["2012"]})
    assert error.value.file == "StatBank KAS201"
    assert "EXTRACT-NOTFOUND: Can't find value: 999 (OMRÅDE)" in str(error.value)
    assert len(received) == 1


def test_an_outage_fails_after_the_retries(stub_statbank):
    with stub_statbank(answer(503, b"down")) as (url, received), pytest.raises(StatBankError) as error:
        client(url, retries=2).tableinfo("KAS201")
    assert len(received) == 3
    assert "gave no answer after 3 tries" in str(error.value)
    assert "503" in str(error.value) and "run the refresh again later" in str(error.value)


def test_a_silent_server_times_out_after_the_retries(stub_statbank):
    with stub_statbank(answer(200, BULK, delay=1.0)) as (url, received), pytest.raises(StatBankError) as error:
        client(url, retries=1, read_timeout=0.2).data_bulk("KAS201", SELECTION)
    assert len(received) == 2
    assert "after 2 tries" in str(error.value) and "timed out" in str(error.value)


@pytest.mark.parametrize(
    "body, content_type, call, rule",
    [
        (b"<!DOCTYPE html><html><body>Log in</body></html>", "text/html", "tableinfo", "tableinfo answer is JSON"),
        (b"<!DOCTYPE html><html><body>Log in</body></html>", "text/html", "data", "BULK text"),
        (b'{"table": "KAS201"}', "application/json", "data", "BULK text"),
        (b"OMR\xc3\x85DE;TID;VALUE\n101;2012;1\n", "text/csv", "data", "BULK text"),
        (b'{"id": "KAS201"}', "application/json", "tableinfo", "lists the table's variables"),
    ],
)
def test_an_answer_in_another_format_is_a_clear_error(stub_statbank, body, content_type, call, rule):
    with stub_statbank(answer(200, body, content_type)) as (url, _), pytest.raises(StatBankError) as error:
        statbank = client(url)
        statbank.tableinfo("KAS201") if call == "tableinfo" else statbank.data_bulk("KAS201", SELECTION)
    assert rule in error.value.rule
    assert content_type in error.value.detail


def test_a_client_past_its_deadline_asks_nothing_more(stub_statbank):
    """tableinfo and data share one deadline: once it has passed, no request is sent."""
    with stub_statbank(answer(200, BULK)) as (url, received), pytest.raises(StatBankUnavailable) as error:
        StatBankClient(url, deadline=Deadline(0)).data_bulk("KAS201", SELECTION)
    assert received == []
    assert "did not answer within 0 s" in str(error.value)


def test_a_wrong_base_url_is_a_clear_error(stub_statbank):
    with stub_statbank(answer(404, b"Not found", "text/plain")) as (url, _), pytest.raises(StatBankError) as error:
        client(url).tableinfo("KAS201")
    assert "HTTP 404" in str(error.value) and "BAROMETER_STATBANK_URL" in str(error.value)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("statbank")
    write_statbank(data_dir)
    save_table(
        data_dir,
        {
            "id": "TEST01",
            "text": "test",
            "variables": [
                {
                    "id": "OMRÅDE",
                    "text": "område",
                    "elimination": True,
                    "time": False,
                    "values": [{"id": "101", "text": "København"}, {"id": "147", "text": "Frederiksberg"}],
                },
                {
                    "id": "Tid",
                    "text": "tid",
                    "elimination": False,
                    "time": True,
                    "values": [{"id": "2011", "text": "2011"}, {"id": "2012", "text": "2012"}],
                },
            ],
        },
        "OMRÅDE;TID;INDHOLD\n101;2011;37,7\n101;2012;..\n147;2011;12\n147;2012;13,5\n",
    )
    return data_dir


@pytest.fixture(scope="module")
def stand_in(demo_dir):
    with serve(demo_dir) as url:
        yield url


def test_fetch_from_the_stand_in_end_to_end(stand_in):
    answer = employment.fetch(client(stand_in), "101", date(2012, 11, 15))
    assert not answer.failures and len(answer.staged) == 1
    staged = answer.staged[0]
    cells = staged.tables["employment"]
    assert staged.reference_date == date(2011, 11, 30), "2012's 30 November is after the 15th"
    assert staged.delivery.name == "StatBank RAS201" and staged.delivery.path is None
    assert len(staged.delivery.sha256) == 64
    assert list(cells.columns) == [
        "_row",
        "table",
        "area_code",
        "status",
        "origin",
        "age",
        "sex",
        "period",
        "reference_date",
        "count",
    ]
    # 2 statuses x 5 origins x 10 ages x 2 sexes, for 2008..2011 (2012 is asked for, not yet due)
    assert len(cells) == 2 * 5 * 10 * 2 * 4
    assert set(cells["area_code"]) == {"101"} and cells["count"].notna().all()
    assert set(cells["status"]) == {"employed", "unemployed"}
    assert cells["_row"].min() == 2
    assert cells.loc[cells["period"] == "2010", "reference_date"].iloc[0] == date(2010, 11, 30)
    validate(staged)


def test_a_vanished_variable_is_named(demo_dir, tmp_path):
    info = json.loads(tableinfo_path(demo_dir, "RAS201").read_text(encoding="utf-8"))
    info["variables"] = [v for v in info["variables"] if v["id"] != "ALDER"]
    save_table(tmp_path, info, "OMRÅDE;INDHOLD\n")
    with serve(tmp_path) as url, pytest.raises(StatBankError) as error:
        employment.fetch(client(url), "101", date(2012, 12, 31))
    assert error.value.rule == "table RAS201 has variable ALDER"
    assert error.value.file == "StatBank RAS201"


def test_an_unknown_municipality_is_named_before_data_is_asked_for(stand_in):
    with pytest.raises(StatBankError) as error:
        employment.fetch(client(stand_in), "999", date(2012, 12, 31))
    assert error.value.rule == "table RAS201 variable OMRÅDE has value 999"


def test_the_stand_in_answers_an_unknown_value_like_the_api(stand_in):
    with pytest.raises(StatBankError) as error:
        client(stand_in).data_bulk("TEST01", {"OMRÅDE": ["999"], "Tid": ["*"]})
    assert "EXTRACT-NOTFOUND: Can't find value: 999 (OMRÅDE)" in str(error.value)


def test_the_stand_in_selects_codes_wildcards_and_languages(stand_in):
    statbank = client(stand_in)
    assert statbank.data_bulk("TEST01", {"omr\u00e5de": ["101"], "TID": ["*"]}).decode() == (
        "OMRÅDE;TID;INDHOLD\n101;2011;37,7\n101;2012;..\n"
    )
    assert statbank.data_bulk("test01", {"OMRÅDE": ["*"], "Tid": ["2012"]}, lang="en").decode() == (
        "OMRÅDE;TID;INDHOLD\n101;2012;..\n147;2012;13.5\n"
    )
    by_get = requests.get(f"{stand_in}/data/TEST01/BULK", params={"OMRÅDE": "101,147", "Tid": "2011"}, timeout=5)
    assert by_get.text == "OMRÅDE;TID;INDHOLD\n101;2011;37,7\n147;2011;12\n"
    assert (
        requests.get(f"{stand_in}/tableinfo", params={"table": "TEST01", "format": "JSON"}, timeout=5).json()["id"]
        == "TEST01"
    )


@pytest.mark.parametrize(
    "body, message",
    [
        ({"table": "TEST01", "format": "CSV", "variables": []}, "Format not found or not valid."),
        ({"table": "TEST01", "variables": []}, "Format not found or not valid."),
        ({"table": "TEST01", "format": "BULK", "variables": [{"code": "Tid", "values": ["*"]}]}, "OMRÅDE"),
    ],
)
def test_the_stand_in_refuses_a_bad_request_like_the_api(stand_in, body, message):
    response = requests.post(f"{stand_in}/data", json=body, timeout=5)
    assert response.status_code == 400
    assert response.json()["errorTypeCode"] == "REQUEST-MISSING"
    assert message in response.json()["message"]


def test_the_stand_in_has_a_command_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    assert "--port" in capsys.readouterr().out
