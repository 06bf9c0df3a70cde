"""A run's own state, created where the run starts (a refresh, a backfill, the demo) and passed
down explicitly: its stage timings, the validation results for its Data Docs, and, across the
editions of a backfill or the demo, what was already read and fetched. A worker process makes
its own and sends its timings back with its part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from barometer.validations.data_docs import Validated

from barometer.timing import StageTimings

if TYPE_CHECKING:
    from barometer.sources.employment import TableAnswer
    from barometer.sources.errors import DeliveryError
    from barometer.sources.staged import StagedDelivery


@dataclass
class RunContext:
    """Run-scoped state. `staged` and `statbank` are memos (None: not kept): deliveries read and
    validated, and StatBank's answers, while a backfill or the demo refreshes edition after
    edition from the same inputs. Memory only; StatBank's answers are aggregate counts."""

    timings: StageTimings = field(default_factory=StageTimings)
    validated: list[Validated] = field(default_factory=list)  # this refresh's suite results
    staged: dict[tuple, tuple[StagedDelivery | None, DeliveryError | None]] | None = None
    statbank: dict[tuple, TableAnswer | DeliveryError] | None = None

    @classmethod
    def across_editions(cls) -> "RunContext":
        """A context for several editions in a row: a delivery (same source, name and checksum)
        is read and validated once, each StatBank table asked once."""
        return cls(staged={}, statbank={})

    def __reduce__(self):
        """A context never travels: pickled (a Prefect task runner shipping the flow that holds
        it to a Dask worker), it arrives empty, so no memo of person-level tables leaves."""
        return (RunContext, ())

    def record(self, file: str, result: Any) -> None:
        """Keep a suite's result for the Data Docs (`validations.common.check` calls this)."""
        self.validated.append(Validated(file, result))

    def new_recording(self) -> list[Validated]:
        """Start collecting one refresh's suite results afresh; returns the list they go to."""
        self.validated = []
        return self.validated
