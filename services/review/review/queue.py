"""The desk's queues: an agency's open dossiers, filtered, sorted by what is due first and paged.

A queue's filter is said to the store both ways (`TaskFilter.filter`): as a query, which MongoDB answers from the
`agency_queue` index, and as a Python test of one instance, which FerretDB's adapter applies to the agency's open
instances it keeps in memory (see `hoso.store`). A filter that includes closed dossiers always goes to the
database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hoso.mongo import Document
from hoso.store import Filter
from review.domain.engine import CLOCK
from review.repository import ReviewRepository
from review.schemas import is_overdue


@dataclass(frozen=True)
class TaskFilter:
    """What an officer asked of the queue; `query` says it to the database, `matches` in Python (same meaning)."""

    agency: str
    role: str | None = None
    assignee: str | None = None
    status: int | None = None
    overdue: bool | None = None
    include_closed: bool = False
    procedure: str | None = None
    text: str | None = None
    channel: str | None = None

    def _pattern(self) -> str | None:
        return None if self.text is None else re.escape(self.text.strip())

    def query(self, now: datetime) -> Document:
        query: dict[str, Any] = {"agency_code": self.agency}
        ands: list[Document] = []
        for key, value in (
            ("procedure_code", self.procedure),
            ("channel", self.channel),
            ("actionable_roles", self.role),
            ("assignee_id", self.assignee),
            ("status_code", self.status),
        ):
            if value is not None:
                query[key] = value
        pattern = self._pattern()
        if pattern is not None:
            # Part of the code or of the applicant's name, as typed (letters in either case).
            regex = {"$regex": pattern, "$options": "i"}
            ands.append({"$or": [{"code": regex}, {"applicant.name": regex}]})
        if not self.include_closed:
            query["terminal"] = False
        if self.overdue is True:
            query.update(CLOCK.overdue_query(now))
        elif self.overdue is False:
            ands.append(CLOCK.not_overdue_query(now))
        if ands:
            query["$and"] = ands
        return query

    def predicate(self, now: datetime) -> Callable[[Document], bool]:
        """`query(now)` as a Python test of one document."""
        pattern = self._pattern()
        found = None if pattern is None else re.compile(pattern, re.IGNORECASE).search

        def holds(doc: Document) -> bool:
            if doc.get("agency_code") != self.agency or (doc["terminal"] and not self.include_closed):
                return False
            if self.procedure is not None and doc.get("procedure_code") != self.procedure:
                return False
            if self.channel is not None and doc.get("channel") != self.channel:
                return False
            if self.role is not None and self.role not in doc.get("actionable_roles", ()):
                return False
            if self.assignee is not None and doc.get("assignee_id") != self.assignee:
                return False
            if self.status is not None and doc.get("status_code") != self.status:
                return False
            if found is not None and not (
                found(doc.get("code", "")) or found((doc.get("applicant") or {}).get("name", ""))
            ):
                return False
            return self.overdue is None or is_overdue(doc, now) is self.overdue

        return holds

    def filter(self, now: datetime) -> Filter:
        return Filter(self.query(now), self.predicate(now), partition=self.agency, kept=not self.include_closed)


@dataclass
class TaskQueue:
    repo: ReviewRepository

    async def page(self, wanted: TaskFilter, now: datetime, *, skip: int, limit: int) -> tuple[list[Document], int]:
        """One page of the queue, due first, and how many dossiers the filter holds in all."""
        return await self.repo.tasks(wanted.filter(now), skip=skip, limit=limit)

    async def open_of_agency(self, agency: str) -> list[Document]:
        """The agency's open dossiers (for the tab counts)."""
        return await self.repo.open_of_agency(agency)
