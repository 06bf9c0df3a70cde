"""Runs a source's Great Expectations suite on its staged frame and turns the first broken
expectation into a DeliveryError naming file, rule, the column as the file names it, and example
rows.

Results hold no cell values: pseudonyms are swapped for per-delivery integer codes first, and
the suite's result format keeps counts only, so results (and the Data Docs built from them) can
only ever show counts. Row numbers cost a metric per expectation: only the broken expectation
that is reported is run again for the `_row` numbers of its unexpected rows.

Great Expectations takes seconds to import: it is imported on the first validation, never when
a suite module is imported. Each table is validated in one run of its whole suite, on a frame
that shares the staged frame's columns instead of copying them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from barometer.sources.errors import DeliveryError
from barometer.sources.staged import ROW

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

PERSONAL_COLUMNS = ("person_id", "respondent_id")
COUNTS_FORMAT = {"result_format": "BASIC", "exclude_unexpected_values": True, "partial_unexpected_count": 0}
ROWS_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW],
    "exclude_unexpected_values": True,
    "partial_unexpected_count": 0,
    "return_unexpected_index_query": False,
}
COLUMN_KWARGS = ("column", "column_A", "column_B")


def gx_expectations():
    """`great_expectations.expectations`, imported on first use (the import takes seconds)."""
    import great_expectations as gx

    return gx.expectations


@cache
def _batch_definition():
    """One ephemeral context and whole-dataframe batch definition per process: creating them
    costs seconds."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every in-memory batch below this size by hashing each cell (text and
    # dates as Python objects), for batch metadata nothing here reads: a third of a validation.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("staged").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole")


def _validate(frame: pd.DataFrame, suite, result_format: dict = COUNTS_FORMAT):
    """The suite's result on `frame`, the batch loaded once (`Batch.validate` loads it a second
    time, fingerprinting every column again). The engine's batch cache is emptied afterwards so
    that it keeps no staged data alive."""
    from great_expectations.validator.v1_validator import Validator

    definition = _batch_definition()
    try:
        return Validator(definition, result_format, {"dataframe": frame}).validate_expectation_suite(suite)
    finally:
        batches = definition.data_asset.datasource.get_execution_engine().batch_manager
        batches.reset_batch_cache()
        batches.batch_data_cache.clear()


def batch_frame(frame: pd.DataFrame, expectations: list) -> pd.DataFrame:
    """What the suite sees: only the columns it reads (GX filters whole batches row by row),
    pseudonyms as integer codes (uniqueness is kept, values are not), nullable numbers as numpy
    floats and Python dates as datetime64 (GX and pandas compare numpy dtypes vectorised, Python
    objects one by one), indexed by `_row` (GX lists a named index's unexpected rows at once,
    an index column's cell by cell). The other columns are the staged frame's own, not copies."""
    read = _columns_read(expectations, frame.columns)
    view = frame[[column for column in frame.columns if column == ROW or column in read]]
    converted = {column: _comparable(view[column]) for column in view.columns if column != ROW}
    return view.assign(**{column: values for column, values in converted.items() if values is not None}).set_index(ROW)


def _columns_read(expectations: list, columns: Iterable[str]) -> set[str]:
    """The columns named by the expectations, or by their row conditions."""
    read: set[str] = set()
    for expectation in expectations:
        kwargs = expectation.configuration.kwargs
        read.update(kwargs[key] for key in COLUMN_KWARGS if kwargs.get(key))
        read.update(kwargs.get("column_list") or [])
        if kwargs.get("row_condition"):
            condition = str(kwargs["row_condition"])
            read.update(column for column in columns if re.search(rf"\b{re.escape(column)}\b", condition))
    return read


def _comparable(series: pd.Series) -> np.ndarray | pd.Series | None:
    """The column as the suite should see it; None where the staged column will do."""
    dtype = series.dtype
    if series.name in PERSONAL_COLUMNS:
        return _codes(series)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and (
        pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype)
    ):
        return series.to_numpy("float64", na_value=np.nan)
    if pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(series, skipna=True) == "date":
        return pd.to_datetime(series)
    return None


def _codes(series: pd.Series) -> np.ndarray:
    """Each distinct value as an integer code (Arrow's dictionary encoding, quicker than pandas'
    factorize), missing ones kept missing (NaN): "is given" and "one row per" see what the
    values they replace would show them."""
    values = pa.array(series, from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False)


def check(
    frame: pd.DataFrame,
    expectations: list,
    file: str,
    suite_name: str,
    labels: dict[str, str] | None = None,
    *,
    record: Callable[[str, Any], None] | None = None,
):
    """Validate; raise a DeliveryError for the first broken expectation in the suite's order.

    `labels` maps staged column names to the file's own (person_id -> 'CPR'), so the error
    points into the delivered file. `record` (the run's, for its Data Docs) is given the result,
    which is also returned.
    """
    import great_expectations as gx

    batch = batch_frame(frame, expectations)
    result = _validate(batch, gx.ExpectationSuite(name=suite_name, expectations=[e.copy() for e in expectations]))
    if record is not None:
        record(file, result)
    broken = _first_broken(result, expectations)
    if broken is not None:
        raise _error(broken, batch, file, labels or {})
    return result


def _first_broken(result, expectations: list):
    """The outcome of the first expectation, in the suite's order, that is broken; or None."""
    order = {_identity(e.configuration): position for position, e in enumerate(expectations)}
    broken = (outcome for outcome in result.results if not outcome.success)
    return min(broken, key=lambda o: order.get(_identity(o.expectation_config), len(order)), default=None)


def _error(broken, batch: pd.DataFrame, file: str, labels: dict[str, str]) -> DeliveryError:
    """The broken rule as the file's reader needs it: run once more, alone, for its rows."""
    import great_expectations as gx

    config = broken.expectation_config
    suite = gx.ExpectationSuite(name="broken", expectations=[config.to_domain_obj()])
    [outcome] = _validate(batch, suite, ROWS_FORMAT).results
    rows = _rows(outcome.result)
    return DeliveryError(
        file,
        config.description or config.type.replace("expect_", "").replace("_", " "),
        _column(config.kwargs, labels),
        rows,
        f"{outcome.result.get('unexpected_count', 0)} row(s) break it" if rows else "",
    )


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
    names = (
        [kwargs["column"]]
        if "column" in kwargs
        else [kwargs["column_B"]]
        if "column_B" in kwargs
        else list(kwargs.get("column_list") or [])
    )
    return ", ".join(dict.fromkeys(labels.get(name, name) for name in names)) or None


def check_districts(
    frame: pd.DataFrame, file: str, column_label: str, name: str = "district_name", number: str = "district"
) -> None:
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
        raise DeliveryError(
            file,
            "district name is one of the ten official districts",
            column_label,
            frame.loc[unknown, ROW].tolist(),
            detail="; ".join(parts),
        )


def check_listed(
    rows: pd.DataFrame, listed: pd.DataFrame, column: str, file: str, rule: str, label: str, detail: str = ""
) -> None:
    """A pair-of-files rule no suite expresses: each row's `column`, when given, is one of the
    listed file's (a pupil's school in the school list, a child's institution in the
    institutions file). `detail` may say `{count}`, the rows that break it."""
    unlisted = rows[column].notna() & ~rows[column].isin(listed[column])
    if unlisted.any():
        raise DeliveryError(
            file, rule, label, rows.loc[unlisted, ROW].tolist(), detail=detail.format(count=int(unlisted.sum()))
        )


def check_reference_date(
    frame: pd.DataFrame, file: str, column_label: str, rule: str, months: set[int], day: int | None = None
) -> None:
    """A reference date the source never has (day and month swapped in the file, or the wrong
    extract) is named, not published as a new period."""
    reference = pd.Timestamp(frame["reference_date"].iloc[0])
    if reference.month not in months or day not in (None, reference.day):
        raise DeliveryError(file, rule, column_label, detail=f"the delivery's reference date is {reference.date()}")
