"""The data model of a delivery on its way through the pipeline: as found in a landing folder
(`Delivery`), and as read, pseudonymised and typed (`StagedDelivery`), with the compaction that
keeps validated tables small."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd
from barometer.sources.errors import DeliveryError

ROW = "_row"  # the row number in the delivered file (header = row 1), kept for error messages


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
    municipality_code: str | None = (
        None  # whose delivery (its rules on districts depend on it); None: StatBank's, every area's
    )

    @property
    def municipality(self) -> str:
        """The municipality a file delivery is of (a StatBank delivery is every area's)."""
        if self.municipality_code is None:
            raise ValueError(f"{self.delivery.name} is every area's delivery, not one municipality's")
        return self.municipality_code

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
