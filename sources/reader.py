"""Reading a source's table from its delivery as its spec describes it: which file of a folder,
CSV or workbook, encoding, separator, sheet and header; the spec's headers required."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from barometer.sources.csv_export import read_csv
from barometer.sources.landing import folder_file
from barometer.sources.spec import SourceSpec
from barometer.sources.staged import Delivery
from barometer.sources.workbook import read_xlsx

Prepare = Callable[[pd.DataFrame], pd.DataFrame]


def table_file(spec: SourceSpec, table: str, delivery: Delivery) -> tuple[Path, str]:
    """The file a table is read from, with its name as errors show it: the delivery itself, or
    in a folder delivery the one file matching the table's pattern."""
    pattern = spec.table(table).file_pattern
    if pattern is None:
        assert delivery.path is not None, "a file source's delivery has a path"
        return delivery.path, delivery.name
    return folder_file(delivery, pattern)


def read_table(spec: SourceSpec, table: str, delivery: Delivery, prepare: Prepare | None = None) -> pd.DataFrame:
    """The table's delivered columns as text, with `_row`, under the pipeline's names (the spec's
    `Table.names`); `prepare` sees each chunk so named as it is read (pseudonymise there, so the
    raw CPR column never exists for the whole file)."""
    path, file = table_file(spec, table, delivery)
    headers, form, names = spec.table(table).headers, spec.format, spec.table(table).names

    def named(chunk: pd.DataFrame) -> pd.DataFrame:
        chunk = chunk.rename(columns=names)
        return prepare(chunk) if prepare else chunk

    if form.kind == "xlsx":
        assert form.sheet is not None, f"{spec.name}: a workbook source names its sheet"
        return read_xlsx(path, file, form.sheet, headers, header_first_cell=form.header_first_cell, prepare=named)
    return read_csv(path, file, headers, encoding=form.encoding, sep=form.separator, prepare=named)
