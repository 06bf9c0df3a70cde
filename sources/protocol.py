"""What a source module has, as the pipeline uses it: the flows loop over `registry.SOURCES`
and call only these, so a new source (a file delivery or a StatBank table) needs no change in
flows/.

Both kinds have a `NAME`, a `SPEC`, a `validate` that raises a DeliveryError for the first
broken rule, and `transform()`, the module computing its indicators (`INDICATORS`, `compute`).
A file source reads one delivery into staged tables; a StatBank source opens a client on the
API and fetches every area's cells up to a date, one staged delivery per table.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import ModuleType
from typing import Any, Protocol

from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.spec import SourceSpec, StatBankSpec
from barometer.sources.staged import Delivery, StagedDelivery

Record = Callable[[str, Any], None] | None  # where a suite's result goes (the Data Docs)


class Source(Protocol):
    NAME: str

    @property
    def SPEC(self) -> SourceSpec | StatBankSpec: ...  # noqa: N802 - a module's constant, read only

    def validate(self, staged: StagedDelivery, *, record: Record = None) -> None: ...

    def transform(self) -> ModuleType: ...


class FileSource(Source, Protocol):
    @property
    def SPEC(self) -> SourceSpec: ...  # noqa: N802

    def read(self, delivery: Delivery, key: PseudonymKey, municipality_code: str) -> StagedDelivery: ...


class StatBankSource(Source, Protocol):
    @property
    def SPEC(self) -> StatBankSpec: ...  # noqa: N802

    def open_client(self, base_url: str, backoff_factor: float | None, deadline_seconds: float | None) -> Any: ...

    def fetch(self, client: Any, municipality_codes: list[str], until: date, answers: dict | None = None) -> Any: ...
