"""Reading a delimited text export into text columns with its row numbers, in chunks, with every
way such a file breaks (encoding, separator, ragged rows, quoting, a cut-off upload) named as the
rule it breaks."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import file_system_errors
from barometer.sources.staged import ROW

CHUNK_ROWS = 200_000
FIELD_BLOCK_BYTES = 1 << 23  # bytes per block of the pass that counts each row's fields
# Encodings in which ';', ',', quote and line ends are single bytes that occur in no other character.
ASCII_COMPATIBLE = {"utf-8", "utf-8-sig", "cp1252", "iso8859-1", "iso8859-15", "ascii"}
BOM = codecs.BOM_UTF8
QUOTE, NEWLINE, RETURN = ord('"'), ord("\n"), ord("\r")


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
            self.ragged.extend(zip(rows[wrong].tolist(), fields[wrong].tolist(), strict=True))
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
