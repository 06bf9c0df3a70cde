"""A local stand-in for the StatBank API (v1), so demos and tests never call api.statbank.dk.

It serves `tableinfo` and `data` (POST with a JSON body, or GET with query parameters) under
`/v1`, from recorded tables in a directory: `<TABLE>.tableinfo.json` (the API's tableinfo
answer) and `<TABLE>.bulk.csv` (the table's full BULK answer, codes, lang=da). Like the API it
matches variable ids in any case, selects exact codes or `*`, requires every variable in BULK,
writes decimal commas for lang=da and points for lang=en, and answers a bad request with HTTP
400 and a JSON error body. Only the formats the barometer uses exist: tableinfo JSON, data BULK.
Tables named `unavailable` answer every request with HTTP 500, as an API having trouble with one
table would (tests of one table failing while the others answer).

    python -m demo.statbank_server DATA_DIR --port 8765   # then BAROMETER_STATBANK_URL=http://127.0.0.1:8765/v1
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

BASE_PATH = "/v1"
FORMATS = {"tableinfo": "JSON", "data": "BULK"}
LANGUAGES = ("da", "en")
QUERY_OPTIONS = {"table", "format", "lang", "valuePresentation"}
SHUTDOWN_POLL_SECONDS = 0.05  # how soon shutdown() is noticed: tests start and stop many servers


class RequestError(Exception):
    """Becomes the API's HTTP 400 answer: {"errorTypeCode": …, "message": …}."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def tableinfo_path(data_dir: Path, table: str) -> Path:
    return Path(data_dir) / f"{table.upper()}.tableinfo.json"


def bulk_path(data_dir: Path, table: str) -> Path:
    return Path(data_dir) / f"{table.upper()}.bulk.csv"


def save_table(data_dir: Path, tableinfo: dict[str, Any], bulk: str) -> None:
    """Record a table as the stand-in serves it: its tableinfo and its full BULK text (lang=da)."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    tableinfo_path(data_dir, tableinfo["id"]).write_text(
        json.dumps(tableinfo, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    bulk_path(data_dir, tableinfo["id"]).write_text(bulk, encoding="utf-8")


class Table:
    """A recorded table held in memory: its tableinfo, header and rows of code fields."""

    def __init__(self, data_dir: Path, table: str) -> None:
        info_file = tableinfo_path(data_dir, table)
        if not info_file.is_file():
            raise RequestError("EXTRACT-NOTFOUND", f"Can't find table: {table}")
        self.info = json.loads(info_file.read_text(encoding="utf-8"))
        lines = bulk_path(data_dir, table).read_text(encoding="utf-8").splitlines()
        self.header = lines[0]
        # Rows by their first variable's code (the area): a request names a few of many areas.
        self.rows: dict[str, list[list[str]]] = {}
        for line in lines[1:]:
            if line:
                row = line.split(";")
                self.rows.setdefault(row[0], []).append(row)

    def select(self, selection: dict[str, list[str]], lang: str) -> str:
        """BULK text of the selected cells, in the table's variable order."""
        variables = self.info["variables"]
        wanted = {variable["id"].casefold(): variable for variable in variables}
        chosen: dict[str, set[str]] = {}
        for code, values in selection.items():
            variable = wanted.get(code.casefold())
            if variable is None:
                raise RequestError("EXTRACT-NOTFOUND", f"Can't find variable: {code}")
            known = [value["id"] for value in variable["values"]]
            if "*" in values:
                values = known
            for value in values:
                if value not in known:
                    raise RequestError("EXTRACT-NOTFOUND", f"Can't find value: {value} ({variable['id']})")
            chosen[variable["id"].casefold()] = set(values)
        unselected = [v["id"] for v in variables if v["id"].casefold() not in chosen]
        if unselected:
            raise RequestError(
                "REQUEST-MISSING", f"BULK needs values selected for every variable: {', '.join(unselected)}"
            )
        allowed = [chosen[variable["id"].casefold()] for variable in variables]
        first = [value["id"] for value in variables[0]["values"] if value["id"] in allowed[0]]
        candidates = (row for code in first for row in self.rows.get(code, []))
        kept = [
            row for row in candidates if all(field in codes for field, codes in zip(row[1:], allowed[1:], strict=False))
        ]
        decimal = "," if lang == "da" else "."
        lines = [";".join(row[:-1] + [row[-1].replace(",", decimal)]) for row in kept]
        return "\n".join([self.header, *lines]) + "\n"


class StatBankHandler(BaseHTTPRequestHandler):
    """Routes /v1/tableinfo and /v1/data; `server.data_dir` holds the recorded tables."""

    server: StandInServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        request: dict[str, Any] = {}
        variables = {}
        for key, values in parse_qs(url.query, keep_blank_values=True).items():
            if key in QUERY_OPTIONS:
                request[key] = values[-1]
            else:
                variables[key] = [v for value in values for v in value.split(",")]
        if variables:
            request["variables"] = [{"code": code, "values": values} for code, values in variables.items()]
        self._answer(url.path, request)

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length).decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            request = None
        if not isinstance(request, dict):
            self._send_error(RequestError("REQUEST-MISSING", "The request body is not a JSON object."))
            return
        self._answer(url.path, request)

    def _answer(self, path: str, request: dict[str, Any]) -> None:
        # The API also takes the table and format as path segments: /v1/data/KAS201/BULK.
        endpoint, *segments = path.removeprefix(BASE_PATH).strip("/").split("/")
        if not path.startswith(BASE_PATH + "/") or endpoint not in FORMATS:
            self._send(404, "text/plain; charset=utf-8", b"Not found\n")
            return
        request = {**request, **dict(zip(("table", "format"), segments, strict=False))}
        self.server.received.append((endpoint, str(request.get("table", "")).upper()))
        try:
            if str(request.get("format", "")).upper() != FORMATS[endpoint]:
                raise RequestError("REQUEST-MISSING", "Format not found or not valid.")
            if str(request.get("table", "")).upper() in self.server.unavailable:
                self._send(500, "text/plain; charset=utf-8", b"Internal Server Error\n")
                return
            table = self.server.table(str(request.get("table", "")))
            if endpoint == "tableinfo":
                body = json.dumps(table.info, ensure_ascii=False).encode("utf-8")
                self._send(200, "application/json; charset=utf-8", body)
                return
            lang = request.get("lang", "da")
            if lang not in LANGUAGES:
                raise RequestError("REQUEST-MISSING", "Language not found or not valid.")
            self._send(200, "text/csv; charset=utf-8", table.select(_selection(request), lang).encode("utf-8"))
        except RequestError as error:
            self._send_error(error)

    def _send_error(self, error: RequestError) -> None:
        body = {"errorTypeCode": error.error_type, "message": error.message}
        self._send(400, "application/json; charset=utf-8", json.dumps(body, ensure_ascii=False).encode("utf-8"))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and demos read their own output, not an access log."""


def _selection(request: dict[str, Any]) -> dict[str, list[str]]:
    try:
        return {str(v["code"]): [str(value) for value in v["values"]] for v in request.get("variables", [])}
    except (TypeError, KeyError):
        raise RequestError("REQUEST-MISSING", "Variables not found or not valid.") from None


class StandInServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, data_dir: Path, host: str, port: int, unavailable: Iterable[str] = ()) -> None:
        super().__init__((host, port), StatBankHandler)
        self.data_dir = Path(data_dir)
        self.unavailable = {table.upper() for table in unavailable}
        self.received: list[tuple[str, str]] = []  # (endpoint, table) of each request, in order
        self._tables = cache(lambda table: Table(self.data_dir, table))

    def table(self, table: str) -> Table:
        """Loaded once per table (ids are case-insensitive), as a table is large."""
        return self._tables(table.upper())

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{BASE_PATH}"


def start(
    data_dir: Path, port: int = 0, host: str = "127.0.0.1", unavailable: Iterable[str] = ()
) -> tuple[StandInServer, str]:
    """Serve in a background thread; stop with server.shutdown() and server.server_close()."""
    server = StandInServer(data_dir, host, port, unavailable)
    threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
        name="statbank-stand-in",
        daemon=True,
    ).start()
    return server, server.url


@contextmanager
def serve(data_dir: Path, host: str = "127.0.0.1", port: int = 0, unavailable: Iterable[str] = ()) -> Iterator[str]:
    """The stand-in's base URL (…/v1) while the block runs; port 0 picks a free port; the
    `unavailable` tables answer HTTP 500."""
    server, url = start(data_dir, port, host, unavailable)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m demo.statbank_server",
        description=(
            "Serve recorded StatBank tables (<TABLE>.tableinfo.json, <TABLE>.bulk.csv) at "
            "http://HOST:PORT/v1, speaking the StatBank API's tableinfo and data (BULK) endpoints."
        ),
    )
    parser.add_argument("data_dir", type=Path, help="directory holding the recorded tables")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765, 0 = any free)")
    args = parser.parse_args(argv)
    server = StandInServer(args.data_dir, args.host, args.port)
    print(f"StatBank stand-in serving {args.data_dir} at {server.url} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
