"""The one rule for "overdue": a dossier is overdue when its legal clock runs and the time is past its due time.

Pure: no I/O. Review (its desk queues, counts and timers), records (its search, metrics and statistics) and the
portal ask this module, each through the fields its documents keep the clock in (`ClockFields`), as a Python test of
a document or as the MongoDB filter that selects the same documents. Whether the clock stands still is review's
fact: its workflow's states say so, and every event review emits carries it (`clock_paused`), so no service infers it
from status codes.

At the due time itself a dossier is not yet overdue (it is on time when resolved by its due time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hoso.documents import Document


def is_overdue(due_at: datetime | None, at: datetime, *, running: bool) -> bool:
    """Whether a clock due at `due_at` is overdue at `at`: it runs and `at` is past the due time."""
    return running and due_at is not None and at > due_at


@dataclass(frozen=True)
class ClockFields:
    """Where a service's documents keep the legal clock: the field of its due time, and the value each field of
    `running` holds while the clock runs (any other value means it has stopped or stands still). A missing field
    reads as null, as MongoDB's filters read it."""

    due: str
    running: Mapping[str, Any]

    def runs(self, doc: Mapping[str, Any]) -> bool:
        return all(doc.get(field) == value for field, value in self.running.items())

    def overdue(self, doc: Mapping[str, Any], at: datetime) -> bool:
        return is_overdue(doc.get(self.due), at, running=self.runs(doc))

    def overdue_query(self, at: datetime) -> Document:
        """The filter of the documents `overdue(doc, at)` holds for."""
        return {self.due: {"$lt": at}, **self.running}

    def not_overdue_query(self, at: datetime) -> Document:
        """The filter of the documents `overdue(doc, at)` does not hold for."""
        stopped = [{field: {"$ne": value}} for field, value in self.running.items()]
        return {"$or": [{self.due: None}, {self.due: {"$gte": at}}, *stopped]}
