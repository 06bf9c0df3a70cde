"""The column-level Great Expectations rules a source's spec declares, and the one call that runs
them with a source's own rules on a staged table.

Per column, in the spec's order: a value is given (`required`), is one of a set (`allowed`),
matches a pattern, is not after another column, lies in a range (`between`), is on one row only
(`unique`); then the table's
keys over several columns. Rules the spec cannot express (a pair of columns compared, a
condition on other columns) are the source's own expectations, passed as `extra`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from barometer.sources.spec import Column, Table
from barometer.validations.common import check, gx_expectations


def column_expectations(column: Column) -> list:
    E = gx_expectations()
    name, found = column.name, []
    if column.required:
        found.append(E.ExpectColumnValuesToNotBeNull(column=name, description=column.required))
    if column.allowed:
        found.append(
            E.ExpectColumnValuesToBeInSet(column=name, value_set=list(column.allowed), description=column.allowed_rule)
        )
    if column.pattern:
        found.append(
            E.ExpectColumnValuesToMatchRegex(column=name, regex=column.pattern, description=column.pattern_rule)
        )
    if column.not_after:
        found.append(
            E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=column.not_after,
                column_B=name,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                description=column.not_after_rule,
            )
        )
    if column.between:
        low, high = column.between
        found.append(
            E.ExpectColumnValuesToBeBetween(column=name, min_value=low, max_value=high, description=column.between_rule)
        )
    if column.unique:
        found.append(E.ExpectColumnValuesToBeUnique(column=name, description=column.unique))
    return found


def table_expectations(table: Table) -> list:
    E = gx_expectations()
    keys = [
        E.ExpectCompoundColumnsToBeUnique(column_list=list(columns), description=rule)
        for columns, rule in table.unique_together
    ]
    return [e for column in table.columns for e in column_expectations(column)] + keys


def check_table(
    table: Table,
    frame: pd.DataFrame,
    file: str,
    suite_name: str,
    extra: Sequence = (),
    record: Callable[[str, Any], None] | None = None,
):
    """The spec's rules and the source's `extra` ones as one suite; the first broken one raises."""
    return check(frame, table_expectations(table) + list(extra), file, suite_name, labels=table.labels, record=record)
