"""Reading a sheet of an .xlsx workbook into text columns with Excel row numbers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from barometer.sources.csv_export import CHUNK_ROWS, require_columns
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import file_system_errors
from barometer.sources.staged import ROW


def read_xlsx(
    path: Path,
    file: str,
    sheet: str,
    columns: list[str],
    *,
    header_first_cell: str | None = None,
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """A sheet's table as text columns with Excel row numbers, handed to `prepare` in chunks
    like `read_csv`.

    The table starts at the first row (or the row whose first cell is `header_first_cell`, for
    sheets with a title and notes above) and ends at the first empty row. fastexcel reads the
    cells straight into Arrow as text, no Python object per cell: an empty cell is missing, a
    whole number reads '7', a date '2013-10-01 00:00:00'.
    """
    import fastexcel  # imported here: only Excel sources need it

    with file_system_errors(file), path.open("rb"):
        pass  # an unreadable or vanished file is named as such, not as a damaged workbook
    try:
        workbook = fastexcel.read_excel(str(path))
    except Exception:  # a file that is not a workbook fails in many ways
        raise DeliveryError(
            file, "file is a readable .xlsx workbook", detail="the file could not be opened as an Excel workbook"
        ) from None
    if sheet not in workbook.sheet_names:
        raise DeliveryError(
            file, f"workbook has a sheet named '{sheet}'", detail=f"sheets found: {', '.join(workbook.sheet_names)}"
        )
    cells = _sheet_cells(workbook, sheet, file)
    header, header_row = _find_header(cells, header_first_cell, file, sheet)
    require_columns(pd.DataFrame(columns=header), columns, file)
    body = _table_body(cells, header_row, len(header))
    if not body.num_rows:
        raise DeliveryError(file, "sheet has data rows", detail=f"sheet '{sheet}' has no rows under its header")
    chunks = []
    for first in range(0, body.num_rows, CHUNK_ROWS):
        part = body.slice(first, CHUNK_ROWS)
        rows = np.arange(header_row + 1 + first, header_row + 1 + first + part.num_rows)
        chunk = pd.DataFrame({ROW: rows, **{name: _text(part.column(header.index(name))) for name in columns}})
        chunks.append(prepare(chunk) if prepare else chunk)
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def _sheet_cells(workbook, sheet: str, file: str) -> pa.RecordBatch:
    """The sheet's cells as text columns, row i being Excel row i + 1 (leading empty rows kept;
    a column with no cell at all, of Arrow's null type, made text too)."""
    try:
        cells = workbook.load_sheet_by_name(sheet, header_row=None, skip_rows=0, dtypes="string").to_arrow()
    except Exception:  # a damaged sheet (bad XML in the zip) fails only when its cells are read
        raise DeliveryError(
            file, "file is a readable .xlsx workbook", detail=f"sheet '{sheet}' is damaged and could not be read"
        ) from None
    return pa.RecordBatch.from_arrays([column.cast(pa.string()) for column in cells.columns], names=cells.schema.names)


def _text(cells: pa.Array) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(cells))


def _blank_rows(cells: pa.RecordBatch, width: int) -> np.ndarray:
    """Rows whose first `width` cells are all missing or blank text."""
    blank = np.ones(cells.num_rows, dtype=bool)
    for column in cells.columns[:width]:
        blank &= pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), True).to_numpy(zero_copy_only=False)
    return blank


def _table_body(cells: pa.RecordBatch, header_row: int, width: int) -> pa.RecordBatch:
    """The rows under the header (Excel row `header_row`) up to the first blank one."""
    below = cells.slice(header_row)
    blank = np.flatnonzero(_blank_rows(below, width))
    return below.slice(0, int(blank[0]) if len(blank) else below.num_rows)


def _find_header(cells: pa.RecordBatch, first_cell: str | None, file: str, sheet: str) -> tuple[list[str], int]:
    """The header's names and its Excel row number."""
    for number, row in enumerate(_rows(cells), start=1):
        names = ["" if value is None else str(value).strip() for value in row]
        while names and names[-1] == "":
            names.pop()
        if not names:
            if first_cell is None:
                break
            continue
        if first_cell is None or names[0] == first_cell:
            return names, number
    expected = f"a row starting with '{first_cell}'" if first_cell else "a header in the first row"
    raise DeliveryError(file, f"sheet '{sheet}' has {expected}", first_cell)


def _rows(cells: pa.RecordBatch, block: int = 64) -> Iterator[list]:
    """The sheet's rows as lists of cells, a few at a time (the header is near the top)."""
    for first in range(0, cells.num_rows, block):
        part = cells.slice(first, block)
        yield from zip(*(column.to_pylist() for column in part.columns), strict=True)
