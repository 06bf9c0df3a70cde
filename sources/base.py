"""The shared mechanism every file source uses: finding deliveries in a landing folder,
checksumming them, and reading CSV and Excel exports into frames with their row numbers.

Landing files are only ever opened for reading: never modified, moved or deleted.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from barometer.config import load_districts
from barometer.sources.errors import DeliveryError

log = logging.getLogger(__name__)

ROW = "_row"  # the row number in the delivered file (header = row 1), kept for error messages
CHUNK_ROWS = 200_000
FIELD_BLOCK_BYTES = 1 << 23  # bytes per block of the pass that counts each row's fields
# Encodings in which ';', ',', quote and line ends are single bytes that occur in no other character.
ASCII_COMPATIBLE = {"utf-8", "utf-8-sig", "cp1252", "iso8859-1", "iso8859-15", "ascii"}
BOM = codecs.BOM_UTF8
QUOTE, NEWLINE, RETURN = ord('"'), ord("\n"), ord("\r")
# A file changed this recently may change again within its file system's timestamp tick
# (2 s on FAT, one clock tick on most others) without its identity changing: hash it every time.
SETTLED_SECONDS = 2.0


@dataclass(frozen=True)
class Delivery:
    """One delivered file or folder, as found in a landing folder.

    `problem` is set when the file system would not let it be read (unreadable, vanished, a
    link out of the landing zone): such a delivery is rejected without being read.
    """

    source: str
    path: Path | None  # None for deliveries fetched over HTTP
    name: str  # as shown to engineers: '<landing folder>/<file or folder>'
    sha256: str
    modified: float
    problem: DeliveryError | None = None
    identity: str = ""  # its files as the file system knows them (`file_identity`); '' if unsettled

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
    municipality_code: str = "101"  # whose delivery: its rules on districts depend on it

    @property
    def rows(self) -> int:
        return sum(len(t) for t in self.tables.values())

    def keeping(self, columns: dict[str, list[str]]) -> StagedDelivery:
        """Only the listed columns of the listed tables (others whole), compacted: once validated,
        what the transforms never read (pseudonyms, birth dates, spellings) need not be held,
        and what they read needs a byte or two a row, not an object or a string each."""
        tables = {name: compact(t[columns[name]]) if name in columns else t for name, t in self.tables.items()}
        return replace(self, tables=tables)


def compact(table: pd.DataFrame) -> pd.DataFrame:
    """Whole numbers in the smallest integer type that holds them (nullable kept nullable), text
    and dates as categories; other columns (flags, decimals) as they are."""
    return table.assign(**{name: compact_column(values) for name, values in table.items()})


def compact_column(values: pd.Series) -> pd.Series:
    if pd.api.types.is_integer_dtype(values.dtype):
        return pd.to_numeric(values, downcast="integer")
    if pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype):
        return values.astype("category")
    return values


def concatenated(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The tables one under the other, categories kept as categories: pandas turns a column
    whose categories differ between tables into objects, so they are first given the union."""
    unified = {}
    for name in tables[0].columns:
        dtypes = [table[name].dtype for table in tables]
        if all(isinstance(dtype, pd.CategoricalDtype) for dtype in dtypes):
            categories = pd.api.types.union_categoricals([pd.Categorical([], dtype=d) for d in dtypes]).categories
            unified[name] = pd.CategoricalDtype(categories)
    return pd.concat([table.astype(unified) for table in tables], ignore_index=True)


def file_system_error(file: str, error: OSError) -> DeliveryError:
    """What the file system refused, as a rule the delivery broke (no path, no traceback)."""
    if isinstance(error, FileNotFoundError):
        return DeliveryError(
            file,
            "file exists until it is read",
            detail="it disappeared before it was read (moved or deleted meanwhile?)",
        )
    if isinstance(error, PermissionError):
        return DeliveryError(file, "file is readable", detail="permission denied for the barometer's user")
    if isinstance(error, IsADirectoryError):
        return DeliveryError(file, "delivery is a file", detail="a folder was found where a file is expected")
    return DeliveryError(
        file, "file is readable", detail=f"the file system failed to read it ({error.strerror or type(error).__name__})"
    )


@contextmanager
def file_system_errors(file: str) -> Iterator[None]:
    """Turns an OS error while `file` is read into its DeliveryError."""
    try:
        yield
    except OSError as error:
        raise file_system_error(file, error) from None


def _raise(error: OSError) -> None:
    raise error


def _files(path: Path) -> list[Path]:
    """A delivery's files in name order: the file itself, or every file under a folder (an
    unreadable subfolder raises instead of being skipped silently)."""
    if not path.is_dir():
        return [path]
    found = [Path(folder, name) for folder, _, names in os.walk(path, onerror=_raise) for name in names]
    return sorted(found)


def sha256_of(path: Path, name: str | None = None) -> str:
    """Checksum of a file, or of a folder's files (names and contents, in name order).

    Raises only DeliveryError (named `name`, default the file name) when it cannot be read.
    """
    digest = hashlib.sha256()
    with file_system_errors(name or path.name):
        for file in _files(path):
            if path.is_dir():
                digest.update(file.relative_to(path).as_posix().encode() + b"\0")
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def file_identity(path: Path, now: float) -> str:
    """A delivery's files as the file system describes them: names, sizes, inodes, modification
    and change times, taken before its checksum. A later refresh that finds the same identity
    trusts the checksum it recorded instead of reading the bytes again, as git's index and DVC's
    state do. The change time is set by the file system on every write, rename or restore of
    an old modification time, and cannot be set back, so the identity changes with the content.
    '' (never trusted) while any file changed less than SETTLED_SECONDS before `now`: a write
    later in the same timestamp tick could leave its identity as it was; and on Windows, whose
    st_ctime is the creation time, which a write leaves as it was.
    """
    if os.name == "nt":
        return ""
    parts, folder = [], path.is_dir()
    for file in _files(path):
        status = file.stat()
        if status.st_ctime_ns > (now - SETTLED_SECONDS) * 1e9:
            return ""
        name = file.relative_to(path).as_posix() if folder else ""
        parts.append(
            f"{name}:{status.st_size}:{status.st_dev}:{status.st_ino}:{status.st_mtime_ns}:{status.st_ctime_ns}"
        )
    return "/".join(parts)


def verify_unchanged(delivery: Delivery) -> None:
    """The delivery still has the checksum it was found with: a file rewritten or removed while
    it was read (an upload still under way) must not be loaded half old, half new."""
    if delivery.path is None:
        return
    rule = "file did not change while it was read"
    try:
        now = sha256_of(delivery.path, delivery.name)
    except DeliveryError:
        raise DeliveryError(
            delivery.name, rule, detail="it disappeared or became unreadable while it was read"
        ) from None
    if now != delivery.sha256:
        raise DeliveryError(delivery.name, rule, detail="its checksum changed: was it still being written?")


def is_ignored(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def find_deliveries(
    source: str, folder: Path, ignore: Iterable[str], known: Mapping[str, Sequence[str]] | None = None
) -> list[Delivery]:
    """Every delivery in a landing folder, oldest first; owner files and litter are skipped.
    `known` (name -> (identity, SHA-256), as the last refresh found them) spares reading again
    the bytes of a delivery whose files' identity is unchanged.

    Never raises for a bad entry: what cannot be read becomes a Delivery with its `problem`.
    """
    try:
        if not folder.is_dir():
            return []
        entries = sorted(folder.iterdir())
    except OSError as error:
        return [unreadable(source, folder, folder.name, file_system_error(folder.name, error))]
    found = []
    for entry in entries:
        if is_ignored(entry.name, ignore):
            log.info("ignoring %s/%s: not a delivery", folder.name, entry.name)
            continue
        name = f"{folder.name}/{entry.name}"
        found.append(delivery_at(source, entry, name, zone=folder.parent, known=(known or {}).get(name)))
    return sorted(found, key=lambda d: (d.modified, d.name))


def delivery_at(source: str, entry: Path, name: str, zone: Path, known: Sequence[str] | None = None) -> Delivery:
    """The delivery a landing entry is, checksummed, or with the problem that stops it being
    read; `zone` is the landing zone its files (links followed) must stay inside. `known` is
    the (identity, SHA-256) it was last found with: its checksum while its identity holds."""
    try:
        _check_inside(entry, name, zone)
        modified = _stat(entry, name).st_mtime
        with file_system_errors(name):
            identity = file_identity(entry, time.time())
        sha256 = known[1] if known and identity and known[0] == identity else sha256_of(entry, name)
        return Delivery(source, entry, name, sha256, modified, identity=identity)
    except DeliveryError as problem:
        return unreadable(source, entry, name, problem)


def unreadable(source: str, entry: Path, name: str, problem: DeliveryError) -> Delivery:
    """A delivery rejected before reading; its time is the link's own, or 0 if even that is gone."""
    try:
        modified = entry.lstat().st_mtime
    except OSError:
        modified = 0.0
    return Delivery(source=source, path=entry, name=name, sha256="", modified=modified, problem=problem)


def _stat(entry: Path, name: str) -> os.stat_result:
    if entry.is_symlink() and not entry.exists():
        raise DeliveryError(name, "link points to an existing file", detail="a symbolic link whose target is missing")
    with file_system_errors(name):
        return entry.stat()


def _check_inside(entry: Path, name: str, zone: Path) -> None:
    """Links may point elsewhere inside the landing zone, never out of it (/etc, a home folder)."""
    with file_system_errors(name):
        root = zone.resolve()
        paths = [entry, *(_files(entry) if entry.is_dir() else [])]
        if any(not path.resolve().is_relative_to(root) for path in paths):
            raise DeliveryError(
                name, "delivery stays inside the landing zone", detail="a symbolic link points outside the landing zone"
            )


def require_columns(frame: pd.DataFrame, columns: Iterable[str], file: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DeliveryError(
            file, "required column present", missing[0], detail=f"missing column(s) {', '.join(missing)}"
        )


def read_csv(
    path: Path,
    file: str,
    columns: list[str],
    *,
    encoding: str = "utf-8",
    sep: str = ";",
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """A delimited export as text columns plus its row numbers, read in chunks.

    `prepare` runs on each chunk as it is read: file sources pseudonymise CPR numbers there, so
    the raw column never exists for the whole file at once. A file cut off mid-row, bytes in
    another encoding and a header that is one field (another separator) are named as such.
    """
    with file_system_errors(file):
        status = path.stat()
    if path.is_dir():
        raise DeliveryError(file, "delivery is a file", detail="a folder was found where a file is expected")
    if status.st_size == 0:
        raise DeliveryError(file, "file is not empty", detail="the file has no content")
    with file_system_errors(file):
        return _read_chunks(path, file, columns, encoding, sep, prepare)


def _read_chunks(
    path: Path,
    file: str,
    columns: list[str],
    encoding: str,
    sep: str,
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None,
) -> pd.DataFrame:
    """The chunks `read_csv` promises, with the parser's failures named as rules."""
    try:
        _check_fields(path, file, columns, encoding, sep)
        reader = pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            chunksize=CHUNK_ROWS,
            skipinitialspace=False,
            index_col=False,
        )
        chunks = []
        for chunk in reader:
            chunk.columns = [str(c).strip() for c in chunk.columns]
            require_columns(chunk, columns, file)
            chunk = chunk[columns]
            chunk.insert(0, ROW, chunk.index + 2)
            chunks.append(prepare(chunk) if prepare else chunk)
    except UnicodeDecodeError as error:
        rows, column = _undecodable(path, encoding, sep)
        detail = (
            f"{len(rows)} row(s) hold bytes that are not {encoding}"
            if error.reason != "unexpected end of data"
            else "the file ends mid-character, as a cut-off upload does"
        )
        raise DeliveryError(file, f"file is encoded as {encoding}", column, rows, detail) from None
    except pd.errors.EmptyDataError:
        raise DeliveryError(file, "file is not empty", detail="the file has no header row") from None
    except (pd.errors.ParserError, csv.Error) as error:
        raise DeliveryError(
            file, f"file is '{sep}'-separated with a constant number of columns", detail=_parser_detail(error)
        ) from None
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
        header = next((record for record in csv.reader(handle, delimiter=sep) if record), [])
    ragged = _ragged_rows(path, encoding, sep, len(header))
    if len(header) == 1 < len(columns):
        raise DeliveryError(
            file,
            f"file is '{sep}'-separated",
            next(c for c in columns if c != header[0].strip()),
            detail=f"the header row is a single field: no '{sep}' between column names",
        )
    if ragged:
        fields = ragged[0][1]
        short = fields < len(header)
        raise DeliveryError(
            file,
            f"every row has the header's {len(header)} fields",
            header[fields].strip() if short else None,
            [row for row, _ in ragged],
            detail="a row ends early, as a cut-off upload does"
            if short
            else f"a row has more fields: a stray '{sep}' in a value?",
        )


def _ragged_rows(path: Path, encoding: str, sep: str, expected: int) -> list[tuple[int, int]]:
    """(row, fields) of each record after the header whose field count is not `expected`, rows
    numbered as csv.reader counts non-empty records; counted on bytes, a block at a time, and
    decoded as it goes so bytes in another encoding raise as csv.reader would."""
    name = codecs.lookup(encoding).name
    separator = sep.encode("utf-8" if name == "utf-8-sig" else encoding)  # utf-8-sig would prefix a BOM
    if name not in ASCII_COMPATIBLE or len(separator) != 1:
        return _ragged_rows_by_csv(path, encoding, sep, expected)
    counter = _FieldCounter(separator[0], expected)
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        first = True
        for block in iter(lambda: handle.read(FIELD_BLOCK_BYTES), b""):
            decoder.decode(block)
            counter.feed(block[len(BOM) :] if first and name == "utf-8-sig" and block.startswith(BOM) else block)
            first = False
        decoder.decode(b"", final=True)
    counter.finish()
    return counter.ragged if counter.regular else _ragged_rows_by_csv(path, encoding, sep, expected)


def _ragged_rows_by_csv(path: Path, encoding: str, sep: str, expected: int) -> list[tuple[int, int]]:
    """The exact but slow count, for quoting the byte count cannot follow (a quote inside an
    unquoted field, a bare carriage return, a NUL byte, an unclosed quote)."""
    with path.open(encoding=encoding, newline="") as handle:
        records = (record for record in csv.reader(handle, delimiter=sep) if record)
        next(records, None)
        return [(row, len(record)) for row, record in enumerate(records, start=2) if len(record) != expected]


class _FieldCounter:
    """Counts each record's fields as csv.reader does (quotes open only at a field's start), with
    numpy over bytes. `regular` turns False where csv.reader's rules go beyond that count."""

    def __init__(self, sep: int, expected: int) -> None:
        self.sep, self.expected = sep, expected
        self.carry = b""  # the last byte fed: processed with the next block as its lookahead
        self.previous = NEWLINE  # the byte before: the file starts as after a line end
        self.quoted = False  # inside a quoted field after `previous`
        self.record_bytes = self.record_seps = 0  # the record under way
        self.records = 0  # non-empty records so far (the header is record 1)
        self.ragged: list[tuple[int, int]] = []
        self.regular = True

    def feed(self, block: bytes) -> None:
        buffer = self.carry + block
        self.carry = buffer[-1:]
        if len(buffer) > 1 and self.regular:
            data = np.frombuffer(buffer, dtype=np.uint8)
            self._count(data[:-1], data[1:])

    def finish(self) -> None:
        """End of file ends the last record, as a line end would."""
        self.feed(b"\n")
        if self.regular:
            self._count(np.frombuffer(self.carry, dtype=np.uint8), np.array([NEWLINE], dtype=np.uint8))
        self.regular = self.regular and not self.quoted

    def _count(self, data: np.ndarray, following: np.ndarray) -> None:
        # The bytes that shape records (separators, line ends, quotes), found in one pass; the
        # rest works on them alone, a fraction of the block.
        positions = np.flatnonzero((data == self.sep) | (data == NEWLINE) | (data == QUOTE) | (data == RETURN))
        byte = data[positions]
        is_quote = byte == QUOTE
        # Inside quotes after each of them: the parity of the quotes so far, and the block's start.
        inside = np.logical_xor.accumulate(is_quote) ^ self.quoted
        quotes, opening = positions[is_quote], inside[is_quote]  # opening: the field is quoted after it
        before = self._before(data, quotes)
        after = following[quotes]
        returns = positions[(byte == RETURN) & ~inside]
        if (
            (opening & (before != self.sep) & (before != NEWLINE) & (before != QUOTE)).any()
            or (~opening & (after != self.sep) & (after != RETURN) & (after != NEWLINE) & (after != QUOTE)).any()
            or (following[returns] != NEWLINE).any()
            or not data.all()
        ):
            self.regular = False
            return
        seps = positions[(byte == self.sep) & ~inside]
        ends = positions[(byte == NEWLINE) & ~inside]
        if len(ends):
            content = np.diff(ends, prepend=-1) - 1 - (self._before(data, ends) == RETURN)
            content[0] += self.record_bytes
            fields = np.diff(np.searchsorted(seps, ends), prepend=0) + 1
            fields[0] += self.record_seps
            fields = fields[content > 0]
            rows = self.records + 1 + np.arange(len(fields))
            wrong = (fields != self.expected) & (rows >= 2)
            self.ragged.extend(zip(rows[wrong].tolist(), fields[wrong].tolist()))
            self.records += len(fields)
            self.record_bytes = len(data) - int(ends[-1]) - 1
            self.record_seps = len(seps) - int(np.searchsorted(seps, ends[-1]))
        else:
            self.record_bytes, self.record_seps = self.record_bytes + len(data), self.record_seps + len(seps)
        self.previous, self.quoted = int(data[-1]), bool((len(quotes) + self.quoted) % 2)

    def _before(self, data: np.ndarray, positions: np.ndarray) -> np.ndarray:
        return np.where(positions > 0, data[positions - 1], self.previous)


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
    names, fields = (
        next(csv.reader([line.decode(encoding, errors="replace")], delimiter=sep), []) for line in (header, first)
    )
    position = next((i for i, field in enumerate(fields) if "\ufffd" in field), len(names))
    return rows, names[position].strip() if rows[:1] != [1] and position < len(names) else None


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
        yield from zip(*(column.to_pylist() for column in part.columns))


def single_reference_date(dates: pd.Series, file: str, column: str, rows: pd.Series) -> date:
    """A delivery describes one reference date; several, or an unreadable one, is an error.

    Parsed once per distinct spelling: a column of one repeated date costs no object per row."""
    codes, spellings = pd.factorize(dates, use_na_sentinel=False)
    parsed = pd.to_datetime(pd.Series(spellings), errors="coerce", format="ISO8601")  # never guess day-first
    days = parsed.dt.normalize().to_numpy()[codes]
    bad = parsed.isna().to_numpy()[codes]
    if bad.any():
        raise DeliveryError(file, "reference date is a date (YYYY-MM-DD)", column, rows[bad].tolist())
    distinct = pd.unique(days)
    if len(distinct) != 1:
        raise DeliveryError(
            file,
            "one reference date per delivery",
            column,
            rows[days != days[0]].tolist(),
            detail=f"{len(distinct)} different reference dates",
        )
    return pd.Timestamp(distinct[0]).date()


def age_on(birth: pd.Series, on: pd.Series | date) -> pd.Series:
    """Exact age in whole years on a date: a birthday on the date itself counts."""
    birth = pd.to_datetime(birth)
    on = pd.to_datetime(pd.Series(on, index=birth.index)) if not isinstance(on, pd.Series) else pd.to_datetime(on)
    before_birthday = (on.dt.month < birth.dt.month) | ((on.dt.month == birth.dt.month) & (on.dt.day < birth.dt.day))
    return (on.dt.year - birth.dt.year - before_birthday.astype(int)).astype("Int64")


def folder_file(delivery: Delivery, pattern: str) -> tuple[Path, str]:
    """The one file in a folder delivery whose name matches `pattern` (case-insensitive glob),
    with its name as shown in errors: '<delivery name>/<file name>'.

    The sender names the files; the pattern only tells the folder's two (or more) tables apart.
    """
    rule = f"folder holds exactly one file matching '{pattern}'"
    if not delivery.is_folder:
        raise DeliveryError(delivery.name, rule, detail="the delivery is not a folder")
    matches = sorted(
        p for p in delivery.path.iterdir() if p.is_file() and fnmatch.fnmatch(p.name.casefold(), pattern.casefold())
    )
    if len(matches) != 1:
        raise DeliveryError(delivery.name, rule, detail=f"{len(matches)} files match")
    return matches[0], f"{delivery.name}/{matches[0].name}"


def stripped(values: pd.Series) -> pd.Series:
    """Cells as text without the spaces senders pad them with."""
    return values.astype("string").str.strip()


def blank_as_missing(values: pd.Series) -> pd.Series:
    """Stripped text with an empty cell as <NA>: the sender's 'not given', not a value."""
    return stripped(values).replace("", pd.NA)


def district_columns(names: pd.Series, municipality_code: str, clean=stripped) -> dict[str, pd.Series]:
    """`district_name` (as sent, cleaned) and `district` (the official number, nullable). A
    municipality without a district list (config/districts.py) is published city-wide only:
    whatever its deliveries say of districts is left out, not an error."""
    districts = load_districts(municipality_code)
    if not districts.names:
        missing = pd.Series(pd.NA, index=names.index, dtype="string")
        return {"district_name": missing, "district": pd.Series(pd.NA, index=names.index, dtype="Int64")}
    return {"district_name": clean(names), "district": districts.to_numbers(names)}


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
