"""Runs a source's Great Expectations suite on its staged frame and turns the first broken
expectation into a DeliveryError naming file, rule, column and example rows.

Personal columns never reach Great Expectations as values: pseudonyms are swapped for
per-delivery integer codes first, so results (and Data Docs) can only ever show row numbers.
"""

from __future__ import annotations

import os
from functools import cache

import pandas as pd

from sources.base import ROW
from sources.errors import DeliveryError

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

PERSONAL_COLUMNS = ("person_id", "respondent_id")
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW],
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


def check(frame: pd.DataFrame, expectations: list, file: str, suite_name: str):
    """Validate; raise a DeliveryError for the first broken expectation. Returns the result."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=suite_name, expectations=[e.copy() for e in expectations])
    result = _batch(without_personal_values(frame)).validate(suite, result_format=RESULT_FORMAT)
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        kwargs = config.kwargs
        column = kwargs.get("column") or ", ".join(kwargs.get("column_list", []) or [])
        rows = [entry[ROW] for entry in outcome.result.get("unexpected_index_list") or []]
        detail = f"{outcome.result.get('unexpected_count', 0)} row(s) break it" if rows else ""
        raise DeliveryError(file, config.description or config.type.replace("expect_", "").replace("_", " "),
                            column or None, rows, detail)
    return result


def check_districts(frame: pd.DataFrame, file: str, column_label: str,
                    name: str = "district_name", number: str = "district") -> None:
    """A district name that is given but maps to none of the official ten is an error naming it
    (district names are not personal data); an empty name is allowed."""
    given = frame[name].fillna("").astype(str).str.strip() != ""
    unknown = given & frame[number].isna()
    if unknown.any():
        values = sorted(frame.loc[unknown, name].astype(str).unique())[:5]
        raise DeliveryError(file, "district name is one of the ten official districts", column_label,
                            frame.loc[unknown, ROW].tolist(),
                            detail="unknown name(s): " + ", ".join(repr(v) for v in values))
