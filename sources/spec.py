"""A source described once: its landing folder, file format, tables and columns.

Everything about a delivery's columns derives from its `SourceSpec`: the headers a reader
requires (and the demo and test builders write), the pipeline's name for each, which ones are
personal, the column-level Great Expectations rules (`validations.columns`), the file's own
name for a column in error messages, what is kept once validated (`computed`), and the source
and privacy tables in the docs. Rules across rows or files, and how derived columns are
computed, stay code beside the spec in the source's module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

NUMBERS = {2: "two", 3: "three", 4: "four"}


@dataclass(frozen=True)
class Column:
    """One column of a staged table and the file column it comes from.

    A derived column (`derived=True`) is computed by the reader from `file` (an age from a date
    of birth, a district number from its name); it is no header of its own, but errors about it
    point at `file`. Each rule is the sentence an error message shows, so it names the file's
    column and what it allows.
    """

    name: str  # in the pipeline
    file: str  # the delivered header it is read (or derived) from
    description: str
    type: str = "text"  # as staged: text, date, integer, number, flag, pseudonym, district
    personal: bool = False  # a CPR number: pseudonymised the moment the file is read
    derived: bool = False
    required: str | None = None  # rule: every row has a value
    allowed: tuple[str, ...] = ()
    allowed_rule: str | None = None  # rule: a value, when given, is one of `allowed`
    between: tuple[float | None, float | None] | None = None  # (low, high); None leaves that end open
    between_rule: str | None = None  # rule: a value, when given, lies in `between` (inclusive)
    pattern: str | None = None
    pattern_rule: str | None = None  # rule: a value, when given, matches `pattern`
    unique: str | None = None  # rule: no value on two rows
    not_after: str | None = None  # another column of the row (a birth date not after the reference date)
    not_after_rule: str | None = None  # rule: where both are given, this one is not after that one
    computed: bool = False  # a transform reads it: kept once validated, the rest released


@dataclass(frozen=True)
class Table:
    """One staged table; in a folder delivery, the file whose name matches `file_pattern`."""

    name: str  # unique across sources: a transform may be handed several sources' tables
    columns: tuple[Column, ...]
    file_pattern: str | None = None  # a glob, case-insensitive; None: the delivery is this file
    unique_together: tuple[tuple[tuple[str, ...], str], ...] = ()  # (columns, rule)

    @property
    def headers(self) -> list[str]:
        """The file's required headers in the order the real export has them."""
        return list(dict.fromkeys(column.file for column in self.columns if not column.derived))

    @property
    def names(self) -> dict[str, str]:
        """Each delivered header -> the pipeline's name of the column read from it: a reader
        sees its columns under these names, so a renamed header is renamed in the spec alone."""
        return {column.file: column.name for column in self.columns if not column.derived}

    def file_column(self, name: str) -> str:
        """The file's header for a pipeline column, for messages that point into the file."""
        return self.column(name).file

    @property
    def labels(self) -> dict[str, str]:
        """Pipeline name -> the file's name, so that errors point into the delivered file."""
        return {column.name: column.file for column in self.columns}

    @property
    def computed(self) -> list[str]:
        """The columns its transforms read, `reference_date` always among them."""
        return [column.name for column in self.columns if column.computed]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    def as_delivered(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Values keyed by pipeline name, re-keyed and ordered as the file's headers: what the
        demo generators and test builders write, so a renamed header is renamed there too."""
        by_header = {self.column(name).file: value for name, value in values.items()}
        return {header: by_header[header] for header in self.headers}


@dataclass(frozen=True)
class FileFormat:
    kind: Literal["csv", "xlsx"]
    encoding: str = "utf-8"  # csv only
    separator: str = ";"  # csv only
    quoted: bool = False  # csv only: every field in double quotes (how the demo writes it)
    sheet: str | None = None  # xlsx only
    header_first_cell: str | None = None  # xlsx only: the header is the row starting with this


@dataclass(frozen=True)
class SourceSpec:
    """A source as a refresh, its docs, the report, the demo and the tests know it."""

    name: str  # also its key in config/sources.yaml (its parameters) and its landing folder
    label: str  # Danish, as readers of the report know it
    format: FileFormat
    tables: tuple[Table, ...]
    reference_date: str  # the rule that dates a delivery, in words (docs)
    privacy: str  # the personal data it carries (docs/privacy.md)
    landing: str | None = None  # the landing folder; default: the name
    description: str = ""  # what it is, in English (docs)
    identifiers: str = "—"  # what becomes of its identifiers (docs/privacy.md)

    @property
    def folder(self) -> str:
        return self.landing or self.name

    @property
    def is_folder_delivery(self) -> bool:
        """A folder of files, one per table, rather than one file."""
        return any(table.file_pattern for table in self.tables)

    def table(self, name: str) -> Table:
        return next(table for table in self.tables if table.name == name)

    def header(self, column: str, table: str | None = None) -> str:
        """The file's header for a pipeline column (of `table`, where the source has several)."""
        if table is None:
            [only] = self.tables
            return only.file_column(column)
        return self.table(table).file_column(column)

    @property
    def computed_from(self) -> dict[str, list[str]]:
        """Per table, the columns kept once validated (tables without any are kept whole)."""
        return {table.name: table.computed for table in self.tables if table.computed}

    @property
    def delivered_as(self) -> str:
        """'youth guidance register, `.xlsx`': what it is and its form, for the docs."""
        files = len(self.tables) if self.is_folder_delivery else 1
        form = "`.xlsx`" if self.format.kind == "xlsx" else "CSV" if files == 1 else f"{NUMBERS[files]} CSVs"
        return f"{self.description}, {form}" if self.description else form


@dataclass(frozen=True)
class StatBankSpec:
    """A source fetched from Statistics Denmark's StatBank API: its tables and codes are its
    entry in config/sources.yaml, checked against each table's own tableinfo before use."""

    name: str
    label: str
    description: str
    privacy: str = "none: published aggregates"
    identifiers: str = "—"
    computed_from: dict[str, list[str]] = field(default_factory=dict)  # aggregates: kept whole

    @property
    def delivered_as(self) -> str:
        return self.description
