"""A client for Statistics Denmark's StatBank API (version 1) and a reader for its BULK format.

The API is public and undocumented as to rate limits, so every call goes through one session
that retries connection errors, timeouts, 429 and 5xx with exponential backoff (POST included:
`tableinfo` and `data` only read). Anything other than the expected answer becomes a
`StatBankError`, a `DeliveryError` whose file is 'StatBank <table>', so a refresh reports a
refused, silent or changed API like any other bad delivery.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

import pandas as pd
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from barometer.sources.base import ROW
from barometer.sources.errors import DeliveryError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONTENT = "INDHOLD"  # the BULK format's value column, named so in both languages
MISSING = ("..", "")  # suppressed or not available
DECIMAL = {"da": ",", "en": "."}
OPENING_CHARS = 80  # how much of an unexpected answer an error message quotes


class StatBankError(DeliveryError):
    """The StatBank API refused a request, did not answer, or answered in an unexpected format."""

    def __init__(self, table: str, rule: str, column: str | None = None, rows: Iterable[int] = (),
                 detail: str = "") -> None:
        super().__init__(f"StatBank {table}", rule, column, rows, detail)


class StatBankUnavailable(StatBankError):
    """The API did not answer (connection errors, timeouts, 5xx after every retry): worth trying
    again later, unlike a refused request or a changed table."""


class StatBankClient:
    """POSTs JSON requests to one API base URL (e.g. https://api.statbank.dk/v1).

    Tries = retries + 1; urllib3 sleeps backoff_factor * 2**(n-1) seconds before the n-th retry
    after the first (and honours Retry-After on 429/503).
    """

    def __init__(self, base_url: str, *, connect_timeout: float = 10.0, read_timeout: float = 300.0,
                 retries: int = 5, backoff_factor: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.tries = retries + 1
        retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                      backoff_factor=backoff_factor, status_forcelist=RETRY_STATUSES,
                      allowed_methods=frozenset({"GET", "POST"}), raise_on_status=True)
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __enter__(self) -> StatBankClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def tableinfo(self, table: str) -> dict[str, Any]:
        """The table's metadata: id, text, unit, updated, … and `variables` with their values."""
        response = self._post("tableinfo", table, {"table": table, "format": "JSON"})
        try:
            info = response.json()
        except ValueError:
            raise StatBankError(table, "tableinfo answer is JSON", detail=_unexpected(response)) from None
        if not isinstance(info, dict) or not isinstance(info.get("variables"), list):
            raise StatBankError(table, "tableinfo answer lists the table's variables",
                                detail=_unexpected(response))
        return info

    def data_bulk(self, table: str, variables: dict[str, list[str]], lang: str = "da") -> bytes:
        """The selected cells as BULK text (codes, not labels); BULK needs every variable selected."""
        body = {
            "table": table, "format": "BULK", "lang": lang, "valuePresentation": "Code",
            "variables": [{"code": code, "values": values} for code, values in variables.items()],
        }
        response = self._post("data", table, body)
        expected = [code.casefold() for code in variables] + [CONTENT.casefold()]
        header = _first_line(response.content)
        fields = [field.casefold() for field in header.split(";")]
        if sorted(fields) != sorted(expected) or fields[-1] != CONTENT.casefold():
            raise StatBankError(table, "data answer is BULK text with a header of the requested "
                                f"variables then {CONTENT}", detail=_unexpected(response))
        return response.content

    def _post(self, endpoint: str, table: str, body: dict[str, Any]) -> requests.Response:
        url = f"{self.base_url}/{endpoint}"
        try:
            response = self.session.post(
                url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), timeout=self.timeout,
                headers={"Content-Type": "application/json; charset=utf-8"})
        except requests.RequestException as error:
            raise StatBankUnavailable(table, "the StatBank API answers", detail=(
                f"{url} gave no answer after {self.tries} tries ({_reason(error)}); "
                "check the network and BAROMETER_STATBANK_URL, or run the refresh again later")) from error
        if response.status_code == 400:
            raise StatBankError(table, "the StatBank API accepts the request", detail=_api_error(response))
        if response.status_code != 200:
            raise StatBankError(table, "the StatBank API answers HTTP 200", detail=(
                f"{url} answered HTTP {response.status_code}; check BAROMETER_STATBANK_URL "
                "(the API's base, ending in /v1)"))
        return response


def _reason(error: requests.RequestException) -> str:
    """The last failure behind requests' wrapper: 'too many 503 error responses', a timeout, …"""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return str(reason or error)


def _api_error(response: requests.Response) -> str:
    """'EXTRACT-NOTFOUND: Can't find value: 999 (OMRÅDE)' from the API's JSON error body."""
    try:
        body = response.json()
        return f"{body['errorTypeCode']}: {body['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP 400 without the API's JSON error body: {_unexpected(response)}"


def _first_line(content: bytes) -> str:
    return content[:4096].decode("utf-8-sig", errors="replace").partition("\n")[0].strip()


def _unexpected(response: requests.Response) -> str:
    """What came back instead, briefly: an HTML page usually means a wrong URL or a proxy."""
    opening = " ".join(response.content[:OPENING_CHARS * 4].decode("utf-8", errors="replace").split())
    kind = response.headers.get("Content-Type", "no content type")
    return f"got {kind} beginning {opening[:OPENING_CHARS]!r} from {response.url}"


def parse_bulk(raw: bytes, table: str, lang: str = "da") -> pd.DataFrame:
    """BULK text as a frame: one text column per variable (named as in the header), INDHOLD as
    float ('..' and empty are NaN) and `_row`, the line in the answer (header = line 1)."""
    try:
        frame = pd.read_csv(io.BytesIO(raw), sep=";", dtype=str, keep_default_na=False,
                            encoding="utf-8-sig", skip_blank_lines=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        raise StatBankError(table, "data answer is ';'-separated UTF-8 text with a header") from None
    if frame.columns[-1].casefold() != CONTENT.casefold():
        raise StatBankError(table, f"data answer's header ends with {CONTENT}", column=CONTENT)
    frame = frame.rename(columns={frame.columns[-1]: CONTENT})
    frame.insert(0, ROW, frame.index + 2)
    frame = frame[frame.drop(columns=ROW).ne("").any(axis=1)].reset_index(drop=True)
    text = frame[CONTENT].str.strip()
    missing = text.isin(MISSING)
    number = pd.to_numeric(text.where(~missing).str.replace(DECIMAL[lang], ".", regex=False),
                           errors="coerce")
    unreadable = number.isna() & ~missing
    if unreadable.any():
        raise StatBankError(table, f"{CONTENT} is a number, '..' or empty", column=CONTENT,
                            rows=frame.loc[unreadable, ROW].tolist())
    frame[CONTENT] = number.astype("float64")
    return frame
