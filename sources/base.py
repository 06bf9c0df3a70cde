"""The shared mechanism every file source uses: finding deliveries in a landing folder,
checksumming them, and reading CSV and Excel exports into frames with their row numbers.

Landing files are only ever opened for reading: never modified, moved or deleted.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from sources.errors import DeliveryError

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
    the raw column never exists for the whole file at once.
    """
    if path.stat().st_size == 0:
        raise DeliveryError(file, "file is not empty", detail="the file has no content")
    try:
        reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding,
                             chunksize=CHUNK_ROWS, skipinitialspace=False)
        chunks = []
        for chunk in reader:
            chunk.columns = [str(c).strip() for c in chunk.columns]
            require_columns(chunk, columns, file)
            chunk = chunk[columns].copy()
            chunk.insert(0, ROW, chunk.index + 2)
            chunks.append(prepare(chunk) if prepare else chunk)
    except UnicodeDecodeError as error:
        raise DeliveryError(file, f"file is encoded as {encoding}",
                            detail=f"byte {error.start} cannot be decoded") from None
    except pd.errors.EmptyDataError:
        raise DeliveryError(file, "file is not empty", detail="the file has no header row") from None
    except pd.errors.ParserError as error:
        raise DeliveryError(file, f"file is '{sep}'-separated with a constant number of columns",
                            detail=_parser_detail(error)) from None
    if not chunks:
        raise DeliveryError(file, "file has data rows", detail="only a header row was delivered")
    return pd.concat(chunks, ignore_index=True)


def _parser_detail(error: Exception) -> str:
    """pandas' parser message names line numbers only; keep it short and value-free."""
    text = str(error).strip().splitlines()[-1]
    return text.split(", saw")[0] if "line" in text else "the file could not be parsed"


def read_xlsx(path: Path, file: str, sheet: str, columns: list[str], *,
              header_first_cell: str | None = None,
              prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> pd.DataFrame:
    """A sheet's table as a frame with Excel row numbers.

    The table starts at the first row (or the row whose first cell is `header_first_cell`, for
    sheets with a title and notes above) and ends at the first empty row.
    """
    from openpyxl import load_workbook  # imported here: only Excel sources need it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is not a workbook
        raise DeliveryError(file, "file is a readable .xlsx workbook",
                            detail="the file could not be opened as an Excel workbook") from None
    try:
        if sheet not in workbook.sheetnames:
            raise DeliveryError(file, f"workbook has a sheet named '{sheet}'", detail=(
                f"sheets found: {', '.join(workbook.sheetnames)}"))
        rows = workbook[sheet].iter_rows(values_only=True)
        header, header_row = _find_header(rows, header_first_cell, file, sheet)
        records, numbers = [], []
        for number, row in enumerate(rows, start=header_row + 1):
            if row is None or all(cell is None or str(cell).strip() == "" for cell in row):
                break
            records.append(row[: len(header)])
            numbers.append(number)
    finally:
        workbook.close()
    frame = pd.DataFrame.from_records(records, columns=header) if records else pd.DataFrame(columns=header)
    require_columns(frame, columns, file)
    if frame.empty:
        raise DeliveryError(file, "sheet has data rows", detail=f"sheet '{sheet}' has no rows under its header")
    frame = frame[columns].copy()
    frame.insert(0, ROW, numbers)
    return prepare(frame) if prepare else frame


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
    parsed = pd.to_datetime(dates, errors="coerce", dayfirst=False)
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
