"""A client for Statistics Denmark's StatBank API (version 1) and a reader for its BULK format.
No library: no well-kept Python StatBank client has the retries, whole-fetch deadline and BULK reader.

The API is public and undocumented as to rate limits, so every call retries connection errors,
timeouts, 429 and 5xx with exponential backoff (POST included: `tableinfo` and `data` only read).
One `Deadline` bounds a whole fetch, retries and backoff included: each request waits at most the
time left, none starts past it, and a server that accepts and then stalls or trickles is cut off
at it. Anything other than the expected answer becomes a `StatBankError`, a `DeliveryError` whose
file is 'StatBank <table>', so a refresh reports a refused, silent or changed API like any other
bad delivery.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd
from barometer.sources.errors import DeliveryError
from barometer.sources.staged import ROW

if TYPE_CHECKING:
    import requests

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_AFTER_STATUSES = frozenset({429, 503})
MAX_BACKOFF_SECONDS = 120.0
DEFAULT_DEADLINE_SECONDS = 600.0
CONTENT = "INDHOLD"  # the BULK format's value column, named so in both languages
MISSING = ("..", "")  # suppressed or not available
DECIMAL = {"da": ",", "en": "."}
OPENING_CHARS = 80  # how much of an unexpected answer an error message quotes


class StatBankError(DeliveryError):
    """The StatBank API refused a request, did not answer, or answered in an unexpected format."""

    def __init__(
        self, table: str, rule: str, column: str | None = None, rows: Iterable[int] = (), detail: str = ""
    ) -> None:
        super().__init__(f"StatBank {table}", rule, column, rows, detail)


class StatBankUnavailable(StatBankError):
    """The API did not answer (connection errors, timeouts, 5xx after every retry, the deadline
    passed): worth trying again later, unlike a refused request or a changed table."""


class Deadline:
    """The moment, on the monotonic clock, by which a whole fetch must be over: every request,
    retry and backoff of one run shares it, so an outage or a stall costs `seconds` at most."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def passed(self) -> bool:
        return self.remaining() <= 0.0


class _DeadlinePassed(Exception):
    """A request still running when the deadline came."""


class StatBankClient:
    """POSTs JSON requests to one API base URL (e.g. https://api.statbank.dk/v1).

    Tries = retries + 1; before the n-th retry it sleeps backoff_factor * 2**(n-1) seconds (none
    before the first retry, at most 120 s; longer if a 429/503 says Retry-After), but never past
    the deadline: a retry that could not start before it is not made.
    """

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 300.0,
        retries: int = 5,
        backoff_factor: float = 2.0,
        deadline: Deadline | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.tries = retries + 1
        self.backoff_factor = backoff_factor
        self.deadline = deadline or Deadline(DEFAULT_DEADLINE_SECONDS)
        import requests  # on use: a run that reuses StatBank's answer never loads it

        self.session = requests.Session()

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
            raise StatBankError(table, "tableinfo answer lists the table's variables", detail=_unexpected(response))
        return info

    def data_bulk(self, table: str, variables: dict[str, list[str]], lang: str = "da") -> bytes:
        """The selected cells as BULK text (codes, not labels); BULK needs every variable selected."""
        body = {
            "table": table,
            "format": "BULK",
            "lang": lang,
            "valuePresentation": "Code",
            "variables": [{"code": code, "values": values} for code, values in variables.items()],
        }
        response = self._post("data", table, body)
        expected = [code.casefold() for code in variables] + [CONTENT.casefold()]
        header = _first_line(response.content)
        fields = [field.casefold() for field in header.split(";")]
        if sorted(fields) != sorted(expected) or fields[-1] != CONTENT.casefold():
            raise StatBankError(
                table,
                f"data answer is BULK text with a header of the requested variables then {CONTENT}",
                detail=_unexpected(response),
            )
        return response.content

    def _post(self, endpoint: str, table: str, body: dict[str, Any]) -> requests.Response:
        """The API's answer, retried while it is unavailable and the deadline allows."""
        url = f"{self.base_url}/{endpoint}"
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        import requests

        failure, retry_after = "", 0.0
        for retry in range(self.tries):
            if retry:
                self._back_off(retry, retry_after, url, table, failure)
            try:
                response = self._request(url, payload)
            except _DeadlinePassed:
                raise self._past_deadline(url, table, "no complete answer") from None
            except requests.RequestException as error:
                if self.deadline.passed():  # the timeout was the time left
                    raise self._past_deadline(url, table, _reason(error)) from error
                failure, retry_after = _reason(error), 0.0
                continue
            if response.status_code not in RETRY_STATUSES:
                return _answered(response, url, table)
            failure, retry_after = f"HTTP {response.status_code}", _retry_after(response)
        raise StatBankUnavailable(
            table,
            "the StatBank API answers",
            detail=(
                f"{url} gave no answer after {self.tries} tries ({failure}); "
                "check the network and BAROMETER_STATBANK_URL, or run the refresh again later"
            ),
        )

    def _request(self, url: str, payload: bytes) -> requests.Response:
        """One POST with its whole answer read, in the time left. requests' read timeout bounds
        each read, not the answer, so a watchdog ends a server that trickles bytes."""
        left = self.deadline.remaining()
        if left <= 0.0:
            raise _DeadlinePassed
        timeout = (min(self.connect_timeout, left), min(self.read_timeout, left))
        return _within(
            left,
            lambda: self.session.post(
                url, data=payload, timeout=timeout, headers={"Content-Type": "application/json; charset=utf-8"}
            ),
        )

    def _back_off(self, retry: int, retry_after: float, url: str, table: str, failure: str) -> None:
        """Sleep before the `retry`-th retry; a retry that could not start by the deadline is not made."""
        backoff = 0.0 if retry == 1 else min(MAX_BACKOFF_SECONDS, self.backoff_factor * 2 ** (retry - 1))
        wait = max(backoff, retry_after)
        if wait >= self.deadline.remaining():
            raise self._past_deadline(url, table, failure)
        time.sleep(wait)

    def _past_deadline(self, url: str, table: str, failure: str) -> StatBankUnavailable:
        return StatBankUnavailable(
            table,
            "the StatBank API answers within the deadline",
            detail=(
                f"StatBank did not answer within {self.deadline.seconds:g} s (deadline_seconds in "
                "config/sources.yaml / BAROMETER_STATBANK_DEADLINE_SECONDS): employment keeps its previous "
                f"values; last try: {url}, {failure}; run the refresh again later"
            ),
        )


def _within(seconds: float, function: Callable[[], requests.Response]) -> requests.Response:
    """function()'s value or exception, if it ends within `seconds`; else _DeadlinePassed, and
    the call is abandoned in its daemon thread (its own timeouts, or the process's end, stop it)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            outcome["error"] = error

    worker = threading.Thread(target=run, name="statbank-request", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _DeadlinePassed
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _answered(response: requests.Response, url: str, table: str) -> requests.Response:
    """The response if it is HTTP 200; a refused request names the API's reason."""
    if response.status_code == 400:
        raise StatBankError(table, "the StatBank API accepts the request", detail=_api_error(response))
    if response.status_code != 200:
        raise StatBankError(
            table,
            "the StatBank API answers HTTP 200",
            detail=(
                f"{url} answered HTTP {response.status_code}; check BAROMETER_STATBANK_URL "
                "(the API's base, ending in /v1)"
            ),
        )
    return response


def _retry_after(response: requests.Response) -> float:
    """The seconds a 429/503 asks to wait (the HTTP-date form is ignored)."""
    value = response.headers.get("Retry-After", "") if response.status_code in RETRY_AFTER_STATUSES else ""
    return float(value) if value.strip().isdigit() else 0.0


def _reason(error: requests.RequestException) -> str:
    """The failure behind requests' wrapper: a refused connection, a timeout, …"""
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
    opening = " ".join(response.content[: OPENING_CHARS * 4].decode("utf-8", errors="replace").split())
    kind = response.headers.get("Content-Type", "no content type")
    return f"got {kind} beginning {opening[:OPENING_CHARS]!r} from {response.url}"


def parse_bulk(raw: bytes, table: str, lang: str = "da") -> pd.DataFrame:
    """BULK text as a frame: one text column per variable (named as in the header), INDHOLD as
    float ('..' and empty are NaN) and `_row`, the line in the answer (header = line 1)."""
    try:
        frame = pd.read_csv(
            io.BytesIO(raw), sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        raise StatBankError(table, "data answer is ';'-separated UTF-8 text with a header") from None
    if frame.columns[-1].casefold() != CONTENT.casefold():
        raise StatBankError(table, f"data answer's header ends with {CONTENT}", column=CONTENT)
    frame = frame.rename(columns={frame.columns[-1]: CONTENT})
    frame.insert(0, ROW, frame.index + 2)
    frame = frame[frame.drop(columns=ROW).ne("").any(axis=1)].reset_index(drop=True)
    text = frame[CONTENT].str.strip()
    missing = text.isin(MISSING)
    number = pd.to_numeric(text.where(~missing).str.replace(DECIMAL[lang], ".", regex=False), errors="coerce")
    unreadable = number.isna() & ~missing
    if unreadable.any():
        raise StatBankError(
            table, f"{CONTENT} is a number, '..' or empty", column=CONTENT, rows=frame.loc[unreadable, ROW].tolist()
        )
    frame[CONTENT] = number.astype("float64")
    return frame
