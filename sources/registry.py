"""The sources a refresh runs, listed: each is a module a tool can follow, with what
`sources/protocol.py` says a source has (`NAME`, `SPEC`, `validate`, `transform()`, and `read`
for a file source or `open_client` and `fetch` for a StatBank one).

StatBank sources come first: file sources after them may draw on their tables (3.1 on
employment's). Adding a source is adding its module here (docs/adding-a-source.md).
"""

from __future__ import annotations

from barometer.sources import (
    childcare,
    employment,
    grades,
    safety,
    school_enrolment,
    survey,
    workforce,
    youth_education,
)
from barometer.sources.protocol import FileSource, Source, StatBankSource
from barometer.sources.spec import StatBankSpec

SOURCES: tuple[Source, ...] = (
    employment,
    youth_education,
    grades,
    school_enrolment,
    childcare,
    survey,
    safety,
    workforce,
)


def by_name(name: str) -> Source:
    for source in SOURCES:
        if source.NAME == name:
            return source
    raise ValueError(f"unknown source {name!r}; the sources are {', '.join(all_sources())}")


def is_statbank(source: Source) -> bool:
    return isinstance(source.SPEC, StatBankSpec)


def statbank_sources() -> list[StatBankSource]:
    return [source for source in SOURCES if is_statbank(source)]  # type: ignore[misc]  # narrowed by spec


def file_source(name: str) -> FileSource:
    source = by_name(name)
    if is_statbank(source):
        raise ValueError(f"{name} is fetched from StatBank by a refresh, not delivered as a file")
    return source  # type: ignore[return-value]  # narrowed by its spec


def file_sources() -> list[str]:
    return [source.NAME for source in SOURCES if not is_statbank(source)]


def all_sources() -> list[str]:
    return [source.NAME for source in SOURCES]


def landing_folder(name: str) -> str:
    return file_source(name).SPEC.folder


def computed_from(name: str) -> dict[str, list[str]]:
    """Per table, the columns its transforms read (kept once validated)."""
    return by_name(name).SPEC.computed_from
