"""The shared mechanism every file source uses: finding deliveries in a landing folder,
checksumming them, and reading CSV and Excel exports into frames with their row numbers.

Landing files are only ever opened for reading: never modified, moved or deleted.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from barometer.sources.errors import DeliveryError

log = logging.getLogger(__name__)

ROW = "_row"  # the row number in the delivered file (header = row 1), kept for error messages
CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class Delivery:
    """One delivered file or folder, as found in a landing folder."""

    source: str
    path: Path | None  # None for deliveries fetched over HTTP
    name: str  # as shown to engineers: '<landing folder>/<file or folder>'
    sha256: str
    modified: float

    @property
    def is_folder(self) -> bool:
        return self.path is not None and self.path.is_dir()


@dataclass
class StagedDelivery:
    """A delivery read, pseudonymised and typed: what validation and transforms see.

    `tables` holds one frame per table the delivery carries (a folder delivery has two), each
    with a `reference_date` column and the file's row numbers in `_row`; table names are unique
    across sources so a transform can be handed the tables of several sources at once.
    """

    delivery: Delivery
    reference_date: date
    tables: dict[str, pd.DataFrame]
    key_version: str | None = None

    @property
    def rows(self) -> int:
        return sum(len(t) for t in self.tables.values())


def sha256_of(path: Path) -> str:
    """Checksum of a file, or of a folder's files (names and contents, in name order)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def is_ignored(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def find_deliveries(source: str, folder: Path, ignore: Iterable[str]) -> list[Delivery]:
    """Every delivery in a landing folder, oldest first; owner files and litter are skipped."""
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        if is_ignored(entry.name, ignore):
            log.info("ignoring %s/%s: not a delivery", folder.name, entry.name)
            continue
        found.append(Delivery(source=source, path=entry, name=f"{folder.name}/{entry.name}",
                              sha256=sha256_of(entry), modified=entry.stat().st_mtime))
    return sorted(found, key=lambda d: (d.modified, d.name))


def require_columns(frame: pd.DataFrame, columns: Iterable[str], file: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DeliveryError(file, "required column present", missing[0],
                            detail=f"missing column(s) {', '.join(missing)}")


def read_csv(path: Path, file: str, columns: list[str], *, encoding: str = "utf-8",
             sep: str = ";", prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> pd.DataFrame:
    """A delimited export as text columns plus its row numbers, read in chunks.

    `prepare` runs on each chunk as it is read: file sources pseudonymise CPR numbers there, so
    the raw column never exists for the whole file at once. A file cut off mid-row, bytes in
    another encoding and a header that is one field (another separator) are named as such.
    """
    if not path.is_file():
        raise DeliveryError(file, "delivery is a file", detail="a folder was found where a file is expected")
    if path.stat().st_size == 0:
        raise DeliveryError(file, "file is not empty", detail="the file has no content")
    try:
        _check_fields(path, file, columns, encoding, sep)
        reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding,
                             chunksize=CHUNK_ROWS, skipinitialspace=False, index_col=False)
        chunks = []
        for chunk in reader:
            chunk.columns = [str(c).strip() for c in chunk.columns]
            require_columns(chunk, columns, file)
            chunk = chunk[columns].copy()
            chunk.insert(0, ROW, chunk.index + 2)
            chunks.append(prepare(chunk) if prepare else chunk)
    except UnicodeDecodeError as error:
        rows, column = _undecodable(path, encoding, sep)
        detail = (f"{len(rows)} row(s) hold bytes that are not {encoding}" if error.reason != "unexpected end of data"
                  else "the file ends mid-character, as a cut-off upload does")
        raise DeliveryError(file, f"file is encoded as {encoding}", column, rows, detail) from None
    except pd.errors.EmptyDataError:
        raise DeliveryError(file, "file is not empty", detail="the file has no header row") from None
    except (pd.errors.ParserError, csv.Error) as error:
        raise DeliveryError(file, f"file is '{sep}'-separated with a constant number of columns",
                            detail=_parser_detail(error)) from None
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    if frame.empty:
        raise DeliveryError(file, "file has data rows", detail="only a header row was delivered")
    return frame


def _parser_detail(error: Exception) -> str:
    """pandas' parser message names line numbers only; keep it short and value-free."""
    text = str(error).strip().splitlines()[-1]
    if "EOF inside string" in text:
        return "the file ends inside a quoted field, as a cut-off upload does"
    return text.split(", saw")[0] if "line" in text else "the file could not be parsed"


def _check_fields(path: Path, file: str, columns: list[str], encoding: str, sep: str) -> None:
    """Every row has the header's number of fields, and the header more than one when more
    columns are required (else the file uses another separator). pandas would pad a short row
    with empty cells, which pass as 'not given', and may shift a long one."""
    with path.open(encoding=encoding, newline="") as handle:
        records = (record for record in csv.reader(handle, delimiter=sep) if record)
        header = next(records, [])
        ragged = [(row, len(record)) for row, record in enumerate(records, start=2) if len(record) != len(header)]
    if len(header) == 1 < len(columns):
        raise DeliveryError(file, f"file is '{sep}'-separated", next(c for c in columns if c != header[0].strip()),
                            detail=f"the header row is a single field: no '{sep}' between column names")
    if ragged:
        fields = ragged[0][1]
        short = fields < len(header)
        raise DeliveryError(file, f"every row has the header's {len(header)} fields",
                            header[fields].strip() if short else None, [row for row, _ in ragged],
                            detail="a row ends early, as a cut-off upload does" if short
                            else f"a row has more fields: a stray '{sep}' in a value?")


def _undecodable(path: Path, encoding: str, sep: str) -> tuple[list[int], str | None]:
    """Rows (header = 1) holding bytes that are not `encoding`, and the column of the first."""
    rows, first = [], b""
    with path.open("rb") as handle:
        header = next(handle, b"")
        handle.seek(0)
        for row, line in enumerate(handle, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                rows.append(row)
                first = first or line
    names, fields = (next(csv.reader([line.decode(encoding, errors="replace")], delimiter=sep), [])
                     for line in (header, first))
    position = next((i for i, field in enumerate(fields) if "\ufffd" in field), len(names))
    return rows, names[position].strip() if rows[:1] != [1] and position < len(names) else None


def read_xlsx(path: Path, file: str, sheet: str, columns: list[str], *,
              header_first_cell: str | None = None,
              prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> pd.DataFrame:
    """A sheet's table as a frame with Excel row numbers.

    The table starts at the first row (or the row whose first cell is `header_first_cell`, for
    sheets with a title and notes above) and ends at the first empty row.
    """
    from python_calamine import CalamineWorkbook  # imported here: only Excel sources need it

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception:  # a file that is not a workbook fails in many ways
        raise DeliveryError(file, "file is a readable .xlsx workbook",
                            detail="the file could not be opened as an Excel workbook") from None
    try:
        if sheet not in workbook.sheet_names:
            raise DeliveryError(file, f"workbook has a sheet named '{sheet}'", detail=(
                f"sheets found: {', '.join(workbook.sheet_names)}"))
        # The whole sheet from A1 (empty cells as ''), so list index + 1 is the Excel row number.
        rows = iter(workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False))
        header, header_row = _find_header(rows, header_first_cell, file, sheet)
        records, numbers = [], []
        for number, row in enumerate(rows, start=header_row + 1):
            cells = [_cell(cell) for cell in row[: len(header)]]
            if all(cell is None or str(cell).strip() == "" for cell in cells):
                break
            records.append(cells)
            numbers.append(number)
    except DeliveryError:
        raise
    except Exception:  # a damaged sheet (bad XML in the zip) fails only when its rows are read
        raise DeliveryError(file, "file is a readable .xlsx workbook",
                            detail=f"sheet '{sheet}' is damaged and could not be read") from None
    finally:
        workbook.close()
    frame = pd.DataFrame.from_records(records, columns=header) if records else pd.DataFrame(columns=header)
    require_columns(frame, columns, file)
    if frame.empty:
        raise DeliveryError(file, "sheet has data rows", detail=f"sheet '{sheet}' has no rows under its header")
    frame = frame[columns].copy()
    frame.insert(0, ROW, numbers)
    return prepare(frame) if prepare else frame


def _cell(value):
    """An Excel cell as a reader expects it: empty as None, whole numbers as int ('7', not '7.0')."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _find_header(rows, first_cell: str | None, file: str, sheet: str) -> tuple[list[str], int]:
    for number, row in enumerate(rows, start=1):
        cells = ["" if c is None else str(c).strip() for c in (row or ())]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            if first_cell is None:
                break
            continue
        if first_cell is None or cells[0] == first_cell:
            return cells, number
    expected = f"a row starting with '{first_cell}'" if first_cell else "a header in the first row"
    raise DeliveryError(file, f"sheet '{sheet}' has {expected}", first_cell)


def single_reference_date(dates: pd.Series, file: str, column: str, rows: pd.Series) -> date:
    """A delivery describes one reference date; several, or an unreadable one, is an error."""
    parsed = pd.to_datetime(dates, errors="coerce", format="ISO8601")  # never guess day-first
    bad = parsed.isna()
    if bad.any():
        raise DeliveryError(file, "reference date is a date (YYYY-MM-DD)", column, rows[bad].tolist())
    distinct = parsed.dt.normalize().unique()
    if len(distinct) != 1:
        first = parsed.dt.normalize().iloc[0]
        raise DeliveryError(file, "one reference date per delivery", column,
                            rows[parsed.dt.normalize() != first].tolist(),
                            detail=f"{len(distinct)} different reference dates")
    return pd.Timestamp(distinct[0]).date()


def age_on(birth: pd.Series, on: pd.Series | date) -> pd.Series:
    """Exact age in whole years on a date: a birthday on the date itself counts."""
    birth = pd.to_datetime(birth)
    on = pd.to_datetime(pd.Series(on, index=birth.index)) if not isinstance(on, pd.Series) else pd.to_datetime(on)
    before_birthday = (on.dt.month < birth.dt.month) | (
        (on.dt.month == birth.dt.month) & (on.dt.day < birth.dt.day))
    return (on.dt.year - birth.dt.year - before_birthday.astype(int)).astype("Int64")


def folder_file(delivery: Delivery, pattern: str) -> tuple[Path, str]:
    """The one file in a folder delivery whose name matches `pattern` (case-insensitive glob),
    with its name as shown in errors: '<delivery name>/<file name>'.

    The sender names the files; the pattern only tells the folder's two (or more) tables apart.
    """
    rule = f"folder holds exactly one file matching '{pattern}'"
    if not delivery.is_folder:
        raise DeliveryError(delivery.name, rule, detail="the delivery is not a folder")
    matches = sorted(p for p in delivery.path.iterdir()
                     if p.is_file() and fnmatch.fnmatch(p.name.casefold(), pattern.casefold()))
    if len(matches) != 1:
        raise DeliveryError(delivery.name, rule, detail=f"{len(matches)} files match")
    return matches[0], f"{delivery.name}/{matches[0].name}"


def stripped(values: pd.Series) -> pd.Series:
    """Cells as text without the spaces senders pad them with."""
    return values.astype("string").str.strip()


def blank_as_missing(values: pd.Series) -> pd.Series:
    """Stripped text with an empty cell as <NA>: the sender's 'not given', not a value."""
    return stripped(values).replace("", pd.NA)


def decimal_number(values: pd.Series, *, strict: bool = False) -> pd.Series:
    """Numbers written with a decimal comma ('132,4') as floats; anything unreadable NaN, for
    validation to name its rows.

    Not strict, a decimal point is read too: Excel cells arrive as numbers, which read as
    '132.4'. Strict is for text exports, where only digits and one decimal comma are a number:
    a point there is a thousands separator or a foreign format, never silently a decimal.
    """
    text = stripped(values)
    if strict:
        text = text.where(text.str.fullmatch(r"-?\d+(,\d+)?").fillna(False).astype(bool))
    return pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce").astype("float64")
