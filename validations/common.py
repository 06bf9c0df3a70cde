"""Runs a source's Great Expectations suite on its staged frame and turns the first broken
expectation into a DeliveryError naming file, rule, the column as the file names it, and example
rows.

Results hold no cell values: pseudonyms are swapped for per-delivery integer codes first, and
the result format keeps only the `_row` numbers of unexpected rows, so results (and the Data
Docs built from them) can only ever show counts and row numbers.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache

import pandas as pd

from barometer.sources.base import ROW
from barometer.sources.errors import DeliveryError
from barometer.sources.origin import ORIGIN_GROUPS
from barometer.validations import data_docs

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

PERSONAL_COLUMNS = ("person_id", "respondent_id")
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW],
    "exclude_unexpected_values": True,
    "partial_unexpected_count": 0,
    "return_unexpected_index_query": False,
}


@cache
def _context():
    """One ephemeral context per process: creating one costs seconds."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _batch(frame: pd.DataFrame):
    context = _context()
    try:
        source = context.data_sources.get("staged")
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas("staged")
    try:
        asset = source.get_asset("frame")
    except (LookupError, ValueError):
        asset = source.add_dataframe_asset("frame")
    try:
        definition = asset.get_batch_definition("whole")
    except (KeyError, ValueError):
        definition = asset.add_batch_definition_whole_dataframe("whole")
    return definition.get_batch(batch_parameters={"dataframe": frame})


def without_personal_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Pseudonyms replaced by integer codes: uniqueness is kept, values are not."""
    safe = frame.copy()
    for column in PERSONAL_COLUMNS:
        if column in safe.columns:
            safe[column] = pd.factorize(safe[column])[0]
    return safe


def check(frame: pd.DataFrame, expectations: list, file: str, suite_name: str,
          labels: dict[str, str] | None = None):
    """Validate; raise a DeliveryError for the first broken expectation in the suite's order.

    `labels` maps staged column names to the file's own (person_id -> 'CPR'), so the error
    points into the delivered file. Returns the result.
    """
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=suite_name, expectations=[e.copy() for e in expectations])
    result = _batch(without_personal_values(frame)).validate(suite, result_format=RESULT_FORMAT)
    data_docs.record(file, result)
    order = {_identity(e.configuration): position for position, e in enumerate(expectations)}
    broken = sorted((o for o in result.results if not o.success),
                    key=lambda o: order.get(_identity(o.expectation_config), len(order)))
    if broken:
        config, outcome = broken[0].expectation_config, broken[0].result
        rows = _rows(outcome)
        raise DeliveryError(file, config.description or config.type.replace("expect_", "").replace("_", " "),
                            _column(config.kwargs, labels or {}), rows,
                            f"{outcome.get('unexpected_count', 0)} row(s) break it" if rows else "")
    return result


def _identity(config) -> tuple[str, str | None, str]:
    """An expectation as configured, recognisable in its result (which adds a batch id)."""
    kwargs = {key: value for key, value in config.kwargs.items() if key != "batch_id"}
    return config.type, config.description, json.dumps(kwargs, sort_keys=True, default=str)


def _rows(outcome: dict) -> list[int]:
    """The `_row` numbers of unexpected rows: one entry per row, or one listing them all (the
    form GX uses when unexpected values are excluded)."""
    rows = []
    for entry in outcome.get("unexpected_index_list") or []:
        value = entry[ROW]
        rows.extend(value if isinstance(value, list) else [value])
    return [int(row) for row in rows]


def _column(kwargs: dict, labels: dict[str, str]) -> str | None:
    """The file's name for the column a rule checks. A pair rule checks column_B against
    column_A (e.g. a birth date against the reference date): it names column_B."""
    names = ([kwargs["column"]] if "column" in kwargs else [kwargs["column_B"]] if "column_B" in kwargs
             else list(kwargs.get("column_list") or []))
    return ", ".join(dict.fromkeys(labels.get(name, name) for name in names)) or None


def check_districts(frame: pd.DataFrame, file: str, column_label: str,
                    name: str = "district_name", number: str = "district") -> None:
    """A district name that is given but maps to none of the official ten is an error naming it
    (district names are not personal data); an empty name is allowed. A value with a digit is
    never quoted: no district name has one, but a CPR number or an address pasted there does."""
    given = frame[name].fillna("").astype(str).str.strip() != ""
    unknown = given & frame[number].isna()
    if unknown.any():
        values = sorted(frame.loc[unknown, name].astype(str).unique())
        quoted = [repr(v) for v in values if not re.search(r"\d", v)]
        withheld = len(values) - len(quoted)
        parts = [f"unknown name(s): {', '.join(quoted[:5])}"] if quoted else []
        if withheld:
            parts.append(f"{withheld} value(s) with digits not shown: they may be personal data")
        raise DeliveryError(file, "district name is one of the ten official districts", column_label,
                            frame.loc[unknown, ROW].tolist(), detail="; ".join(parts))


def check_reference_date(frame: pd.DataFrame, file: str, column_label: str, rule: str, months: set[int],
                         day: int | None = None) -> None:
    """A reference date the source never has (day and month swapped in the file, or the wrong
    extract) is named, not published as a new period."""
    reference = pd.Timestamp(frame["reference_date"].iloc[0])
    if reference.month not in months or day not in (None, reference.day):
        raise DeliveryError(file, rule, column_label, detail=f"the delivery's reference date is {reference.date()}")


def person_register_expectations(origin_label: str, person: str, age_band: tuple[int, int]) -> list:
    """The rules every person register shares: a known origin, one row per person, born by the
    reference date, and an age within the band the register covers."""
    import great_expectations as gx

    E = gx.expectations
    low, high = age_band
    return [
        E.ExpectColumnValuesToNotBeNull(column="origin", description=f"origin ({origin_label}) is given"),
        E.ExpectColumnValuesToBeInSet(column="origin", value_set=list(ORIGIN_GROUPS),
                                      description=f"origin ({origin_label}) is one of Statistics Denmark's five categories"),
        E.ExpectColumnValuesToBeUnique(column="person_id", description=f"one row per {person}"),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="reference_date", column_B="birth_date", or_equal=True, ignore_row_if="either_value_is_missing",
            description="date of birth is not after the reference date"),
        E.ExpectColumnValuesToBeBetween(column="age", min_value=low, max_value=high,
                                        description=f"age on the reference date within the register's {low}-{high} band"),
    ]
