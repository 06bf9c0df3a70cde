"""employment: the quarterly labour-force table KAS201, fetched from the StatBank API.

The table's variables and codes are checked against `tableinfo` before data is asked for, so a
renamed variable or a vanished code fails with a message naming it rather than with an empty or
partial answer. No person-level data: the cells are counts.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from datetime import date
from typing import Any

import pandas as pd
from barometer.config import source_config
from barometer.sources.base import ROW, Delivery, StagedDelivery
from barometer.sources.statbank import CONTENT, Deadline, StatBankClient, StatBankError, parse_bulk

NAME = "employment"
TABLES = ["kas201"]
COLUMNS = {"area": "area_code", "status": "status", "origin": "origin", "age": "age", "sex": "sex"}


def open_client(base_url: str) -> StatBankClient:
    """A client with config/sources.yaml's timeouts and retries, its deadline starting now.
    BAROMETER_STATBANK_BACKOFF_FACTOR and BAROMETER_STATBANK_DEADLINE_SECONDS override the
    backoff and the deadline (tests, impatient engineers, an operator's tighter bound)."""
    config = source_config(NAME)
    options = dict(config["client"])
    options["backoff_factor"] = _seconds("BAROMETER_STATBANK_BACKOFF_FACTOR", options["backoff_factor"])
    deadline = _seconds("BAROMETER_STATBANK_DEADLINE_SECONDS", config["deadline_seconds"])
    return StatBankClient(base_url, **options, deadline=Deadline(deadline))


def _seconds(variable: str, configured: float) -> float:
    """The environment's number if set, else the configured one."""
    value = os.environ.get(variable)
    if not value:
        return float(configured)
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{variable}={value!r} is not a number of seconds") from None


def fetch(client: StatBankClient, municipality_code: str, until: date) -> StagedDelivery:
    """Every quarter of the municipality's cells that ended by `until`, one BULK request."""
    return staged_delivery(fetch_bulk(client, municipality_code, until), until)


def fetch_bulk(client: StatBankClient, municipality_code: str, until: date) -> bytes:
    """The BULK answer for every year up to `until`, the selection checked against tableinfo.
    A backfill asks once, for its last edition, and stages each edition from the same answer."""
    config = source_config(NAME)
    info = client.tableinfo(config["table"])
    return client.data_bulk(config["table"], select(info, config, municipality_code, until))


def staged_delivery(raw: bytes, until: date) -> StagedDelivery:
    """A BULK answer as the delivery of the quarters ended by `until`."""
    cells = stage(raw, until)
    delivery = Delivery(
        source=NAME,
        path=None,
        name=f"StatBank {source_config(NAME)['table']}",
        sha256=hashlib.sha256(raw).hexdigest(),
        modified=time.time(),
    )
    return StagedDelivery(delivery, cells["reference_date"].max(), {TABLES[0]: cells})


def select(info: dict[str, Any], config: dict[str, Any], municipality_code: str, until: date) -> dict[str, list[str]]:
    """The BULK selection, keyed by the API's own variable ids: the configured codes, and every
    year up to `until`. Fails naming the variable or code the table no longer has."""
    table = config["table"]
    ids = _match_variables([variable["id"] for variable in info["variables"]], config, f"table {table}")
    unconfigured = [v["id"] for v in info["variables"] if v["id"] not in ids.values()]
    if unconfigured:
        raise StatBankError(
            table,
            f"table {table} has only the configured variables",
            detail=(
                f"unconfigured {', '.join(unconfigured)}: BULK needs a value chosen for each; "
                "add it to config/sources.yaml"
            ),
        )
    variables = {variable["id"]: variable for variable in info["variables"]}
    wanted = _wanted_codes(config["codes"], municipality_code)
    wanted["time"] = _years_until(variables[ids["time"]], until.year)
    if not wanted["time"]:
        raise StatBankError(table, f"table {table} has a year up to {until.year}")
    selection = {}
    for role, codes in wanted.items():
        variable = variables[ids[role]]
        known = {value["id"] for value in variable["values"]}
        missing = [code for code in codes if code not in known]
        if missing:
            raise StatBankError(
                table,
                f"table {table} variable {variable['id']} has value {missing[0]}",
                column=variable["id"],
                detail=f"configured code(s) missing from tableinfo: {', '.join(missing)}",
            )
        selection[variable["id"]] = codes
    return selection


def _wanted_codes(codes: dict[str, Any], municipality_code: str) -> dict[str, list[str]]:
    return {
        "area": [municipality_code],
        "status": [codes["employed"], codes["unemployed"]],
        "origin": [codes["origin_all"], *codes["origin_non_western"]],
        "age": list(codes["ages"]),
        "sex": [codes["sex_all"]],
        "period": list(codes["quarters"]),
    }


def _years_until(variable: dict[str, Any], year: int) -> list[str]:
    return [
        value["id"] for value in variable["values"] if re.fullmatch(r"\d{4}", value["id"]) and int(value["id"]) <= year
    ]


def stage(raw: bytes, until: date, lang: str = "da") -> pd.DataFrame:
    """BULK text as the staged `kas201` table: codes, quarter ('2012K3'), its last day as
    reference_date, and the count; quarters ending after `until` are left out."""
    config = source_config(NAME)
    table = config["table"]
    frame = parse_bulk(raw, table, lang)
    column = _match_variables(list(frame.columns), config, "data answer")
    quarter_number = {code: number for number, code in enumerate(config["codes"]["quarters"], start=1)}
    year = pd.to_numeric(frame[column["time"]], errors="coerce")
    number = frame[column["period"]].map(quarter_number)
    unknown = year.isna() | number.isna()
    if unknown.any():
        raise StatBankError(
            table, "period is a configured quarter of a year", column["period"], frame.loc[unknown, ROW].tolist()
        )
    quarter_end = pd.PeriodIndex.from_fields(year=year, quarter=number, freq="Q").end_time.date
    cells = pd.DataFrame({ROW: frame[ROW]})
    for role, name in COLUMNS.items():
        cells[name] = frame[column[role]]
    cells["quarter"] = frame[column["time"]] + frame[column["period"]]
    cells["reference_date"] = quarter_end
    cells["count"] = frame[CONTENT]
    cells = cells[cells["reference_date"] <= until].reset_index(drop=True)
    if cells.empty:
        raise StatBankError(table, f"table {table} has a quarter ending by {until.isoformat()}")
    return cells


def _match_variables(ids: list[str], config: dict[str, Any], owner: str) -> dict[str, str]:
    """role -> the id as the API spells it: configured ids match in any case ('Tid', 'TID')."""
    by_folded = {variable_id.casefold(): variable_id for variable_id in ids}
    for configured in config["variables"].values():
        if configured.casefold() not in by_folded:
            raise StatBankError(
                config["table"],
                f"{owner} has variable {configured}",
                column=configured,
                detail=f"it lists {', '.join(ids)}",
            )
    return {role: by_folded[configured.casefold()] for role, configured in config["variables"].items()}
