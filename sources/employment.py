"""employment: the labour force by origin from StatBank, one table per span of years (RAS201,
annual, up to 2016; KAS201, quarterly, from 2017), as config/sources.yaml lists them.

Each table is checked against its own `tableinfo` before data is asked for, so a renamed
variable or a vanished code fails with a message naming the table, the variable and the code
rather than with an empty or partial answer. A table that fails leaves the others standing:
their years are staged, each table as its own delivery ('StatBank RAS201'), so lineage says
which table every value came from. No person-level data: the cells are counts.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from math import prod
from types import ModuleType
from typing import Any, TypedDict

import pandas as pd
from barometer.config import source_config
from barometer.sources.spec import StatBankSpec
from barometer.sources.staged import ROW, Delivery, StagedDelivery
from barometer.sources.statbank import CONTENT, Deadline, StatBankClient, StatBankError, parse_bulk

NAME = "employment"
SPEC = StatBankSpec(
    NAME,
    label="Danmarks Statistik, Statistikbanken (tabel RAS201 til 2016, KAS201 fra 2017)",
    description="StatBank RAS201 and KAS201 over HTTP",
)
TABLES = ["employment"]  # one staged table: every StatBank table's cells, `table` says whose
CODE_COLUMNS = {"area": "area_code", "origin": "origin", "age": "age", "sex": "sex"}
CELL = ["table", "area_code", "status", "origin", "age", "sex", "period"]  # one count each
STATUSES = ["employed", "unemployed"]  # the roles config/sources.yaml names each table's codes for
# A table's configured years (config/sources.yaml): `to` None = every later year. "from" is a
# keyword, hence the call form.
YearSpan = TypedDict("YearSpan", {"from": int, "to": int | None})


def open_client(
    base_url: str, backoff_factor: float | None = None, deadline_seconds: float | None = None
) -> StatBankClient:
    """A client with config/sources.yaml's timeouts and retries, its deadline starting now. A
    given backoff and deadline (BAROMETER_STATBANK_BACKOFF_FACTOR and
    BAROMETER_STATBANK_DEADLINE_SECONDS in the run request: tests, impatient engineers, an
    operator's tighter bound) replace the configured ones."""
    config = source_config(NAME)
    options = dict(config["client"])
    if backoff_factor is not None:
        options["backoff_factor"] = backoff_factor
    deadline = config["deadline_seconds"] if deadline_seconds is None else deadline_seconds
    return StatBankClient(base_url, **options, deadline=Deadline(float(deadline)))


def table_configs() -> list[dict[str, Any]]:
    return source_config(NAME)["tables"]


def table_config(table: str) -> dict[str, Any]:
    return next(config for config in table_configs() if config["table"] == table)


def tables_until(until: date) -> list[dict[str, Any]]:
    """The configured tables that supply a year up to `until`, in order."""
    return [config for config in table_configs() if config["years"]["from"] <= until.year]


@dataclass
class TableAnswer:
    """One table's BULK answers (one per request) and its status codes as tableinfo names them."""

    table: str
    raw: list[bytes]
    statuses: dict[str, str]  # code -> 'employed' / 'unemployed'


@dataclass
class StatBankAnswer:
    """What one fetch brings: a staged delivery per table that answered, the error of each that
    did not (so the others' years still publish)."""

    staged: list[StagedDelivery]
    failures: list[StatBankError]


def fetch(
    client: StatBankClient,
    municipality_codes: list[str] | str,
    until: date,
    answers: dict[tuple, TableAnswer | StatBankError] | None = None,
) -> StatBankAnswer:
    """Every period up to `until` of the municipalities' cells (include '000' for all Denmark),
    each table asked once for all of them. With `answers` (a backfill's memo), each table is
    asked once for every year it has and its answer, or its error, kept there for later editions.
    Raises the first error if no table answered."""
    codes = [municipality_codes] if isinstance(municipality_codes, str) else list(municipality_codes)
    fetched: dict[str, TableAnswer | StatBankError] = {}
    for config in tables_until(until):
        memo = (client.base_url, config["table"], tuple(codes))
        if answers is not None and memo in answers:
            fetched[config["table"]] = answers[memo]
            continue
        try:
            fetched[config["table"]] = fetch_table(client, config, codes, date.max if answers is not None else until)
        except StatBankError as error:
            fetched[config["table"]] = error
        if answers is not None:
            answers[memo] = fetched[config["table"]]
    return answer_until(fetched, until)


def answer_until(fetched: dict[str, TableAnswer | StatBankError], until: date) -> StatBankAnswer:
    """The tables' answers staged for the edition ending `until`; a table with no period by then
    is left out. Raises the first error if nothing is left."""
    if not fetched:
        spans = ", ".join(f"{c['table']} from {c['years']['from']}" for c in table_configs())
        raise StatBankError(NAME, f"a configured table has a year up to {until.year}", detail=spans)
    failures = [answer for answer in fetched.values() if isinstance(answer, StatBankError)]
    staged = [
        delivery
        for answer in fetched.values()
        if isinstance(answer, TableAnswer) and (delivery := stage(answer, until)) is not None
    ]
    if not staged:
        raise (
            failures[0]
            if failures
            else StatBankError(next(iter(fetched)), f"a table has a period ending by {until.isoformat()}")
        )
    return StatBankAnswer(staged, failures)


def fetch_table(client: StatBankClient, config: dict[str, Any], codes: list[str], until: date) -> TableAnswer:
    """One table's cells for the municipalities, its selection checked against tableinfo first;
    a selection over the configured cell limit is asked for in several requests."""
    table = config["table"]
    info = client.tableinfo(table)
    selection, statuses = select(info, config, codes, until)
    area = _match_variables([v["id"] for v in info["variables"]], config, f"table {table}")["area"]
    raw = [client.data_bulk(table, {**selection, area: chunk}) for chunk in _chunks(selection, area)]
    return TableAnswer(table, raw, statuses)


def _chunks(selection: dict[str, list[str]], area: str) -> list[list[str]]:
    """The selection's areas in groups whose cells stay within max_cells_per_request."""
    per_area = prod(len(values) for variable, values in selection.items() if variable != area)
    size = max(1, source_config(NAME)["max_cells_per_request"] // per_area)
    areas = selection[area]
    return [areas[start : start + size] for start in range(0, len(areas), size)]


def select(
    info: dict[str, Any], config: dict[str, Any], codes: list[str], until: date
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The BULK selection, keyed by the API's own variable ids, and the status codes read from
    tableinfo. Fails naming the table, the variable and the code it no longer has."""
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
    statuses = {
        _status_code(table, variables[ids["status"]], role, named): role for role, named in config["status"].items()
    }
    wanted = {
        "area": codes,
        "status": list(statuses),
        "origin": list(dict.fromkeys(code for group in config["origin"].values() for code in group)),
        "age": list(config["ages"]),
        "sex": list(config["sexes"]),
        "time": _years(table, config["years"], variables[ids["time"]], until.year),
    }
    if "period" in ids:
        wanted["period"] = list(config["quarters"])
    selection = {}
    for role, wanted_codes in wanted.items():
        variable = variables[ids[role]]
        known = {value["id"] for value in variable["values"]}
        missing = [code for code in wanted_codes if code not in known]
        if missing:
            raise StatBankError(
                table,
                f"table {table} variable {variable['id']} has value {missing[0]}",
                column=variable["id"],
                detail=f"configured code(s) missing from tableinfo: {', '.join(missing)}",
            )
        selection[variable["id"]] = wanted_codes
    return selection, statuses


def _status_code(table: str, variable: dict[str, Any], role: str, named: dict[str, list[str]]) -> str:
    """The one code of `variable` named by the configured codes or label texts."""

    def folded(text: str) -> str:
        return " ".join(text.split()).casefold()

    if "codes" in named:
        matches = [value["id"] for value in variable["values"] if value["id"] in named["codes"]]
        wanted = ", ".join(named["codes"])
    else:
        texts = {folded(text) for text in named["texts"]}
        matches = [value["id"] for value in variable["values"] if folded(value.get("text", "")) in texts]
        wanted = " or ".join(f"'{text}'" for text in named["texts"])
    if len(matches) != 1:
        found = f"it has {', '.join(matches)}" if matches else f"it lists {_listing(variable)}"
        raise StatBankError(
            table,
            f"table {table} variable {variable['id']} has one value for {role} ({wanted})",
            column=variable["id"],
            detail=found,
        )
    return matches[0]


def _listing(variable: dict[str, Any]) -> str:
    return ", ".join(f"{value['id']} '{value.get('text', '')}'" for value in variable["values"])


def _years(table: str, years: YearSpan, variable: dict[str, Any], until_year: int) -> list[str]:
    """The table's configured years up to `until_year`: a closed span must be there whole, an
    open one from its first year to the table's latest (StatBank publishes the newest later)."""
    listed = {int(value["id"]) for value in variable["values"] if re.fullmatch(r"\d{4}", value["id"])}
    last = min(until_year, years["to"] or max(listed, default=years["from"]))
    wanted = [str(year) for year in range(years["from"], last + 1)]
    missing = [year for year in wanted if int(year) not in listed]
    if missing or not wanted:
        raise StatBankError(
            table,
            f"table {table} variable {variable['id']} has value {(missing or [str(years['from'])])[0]}",
            column=variable["id"],
            detail=f"configured years {years['from']}-{years['to'] or ''} up to {until_year}; missing: "
            f"{', '.join(missing) or years['from']}",
        )
    return wanted


def stage(answer: TableAnswer, until: date, lang: str = "da") -> StagedDelivery | None:
    """A table's answers as its delivery of the periods ended by `until` (None if there is none):
    the staged `employment` table of codes, status as employed/unemployed, the period ('2012K3'
    or, for an annual table, '2012'), its reference date and the count."""
    config = table_config(answer.table)
    frames, lines = [], 0
    for raw in answer.raw:
        cells = stage_bulk(raw, config, answer.statuses, lang)
        frames.append(cells.assign(**{ROW: cells[ROW] + lines}))
        lines += raw.count(b"\n")
    cells = pd.concat(frames, ignore_index=True)
    cells = cells[cells["reference_date"] <= until].reset_index(drop=True)
    if cells.empty:
        return None
    delivery = Delivery(
        source=NAME,
        path=None,
        name=f"StatBank {answer.table}",
        sha256=hashlib.sha256(b"".join(answer.raw)).hexdigest(),
        modified=time.time(),
    )
    return StagedDelivery(delivery, cells["reference_date"].max(), {TABLES[0]: cells})


def stage_bulk(raw: bytes, config: dict[str, Any], statuses: dict[str, str], lang: str = "da") -> pd.DataFrame:
    """One BULK answer as staged cells; each period dated by the table's rule: a quarter's last
    day, or an annual table's configured day of its year (RAS201: 30 November)."""
    table = config["table"]
    frame = parse_bulk(raw, table, lang)
    column = _match_variables(list(frame.columns), config, "data answer")
    year = pd.to_numeric(frame[column["time"]], errors="coerce")
    cells = pd.DataFrame({ROW: frame[ROW], "table": table})
    for role, name in CODE_COLUMNS.items():
        cells[name] = frame[column[role]]
    cells["status"] = frame[column["status"]].map(statuses)
    if "period" in column:
        quarter = frame[column["period"]].map({code: n for n, code in enumerate(config["quarters"], start=1)})
        unknown = year.isna() | quarter.isna()
        if unknown.any():
            raise StatBankError(
                table, "period is a configured quarter of a year", column["period"], frame.loc[unknown, ROW].tolist()
            )
        cells["period"] = frame[column["time"]] + frame[column["period"]]
        cells["reference_date"] = pd.PeriodIndex.from_fields(year=year, quarter=quarter, freq="Q").end_time.date
    else:
        if year.isna().any():
            raise StatBankError(table, "time is a year", column["time"], frame.loc[year.isna(), ROW].tolist())
        day = config["reference_date"]
        cells["period"] = frame[column["time"]]
        cells["reference_date"] = [date(int(y), day["month"], day["day"]) for y in year]
    cells["count"] = frame[CONTENT]
    return cells[[ROW, *CELL, "reference_date", "count"]]


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


def validate(staged: StagedDelivery, *, record: Callable[[str, Any], None] | None = None) -> None:
    """One table's delivery against that table's configured codes (validations/employment.py,
    imported here on use: it builds on this module's constants)."""
    from barometer.validations.employment import validate_cells

    validate_cells(staged, record=record)


def transform() -> ModuleType:
    from barometer.transforms import employment  # on use: a rerun reusing every source skips the import

    return employment
