"""The desk's queues: an agency's open dossiers, filtered, sorted by what is due first and paged.

Two ways to answer, chosen from the server the client found:

- `IndexedQueue` (MongoDB): each page is one indexed query and one count.
- `CopiedQueue` (FerretDB v1, where any filter beyond a bare `_id` reads the whole collection): each agency's open
  dossiers are read into memory once, and every page is filtered, sorted and cut from that copy. Before it answers,
  a page reads the agency's change log (`hoso.changes`) from where the copy stands and reads again the dossiers named
  there, so a page shows every change that any process had made when the page was asked for. Pages that arrive
  together share one such catch-up. Far behind (more than `at_most` changes), and every `full_read_seconds` in the
  background, the copy is read again whole (which also takes in a change whose writer died before logging it).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hoso.logs import get_logger
from hoso.mongo import Document, id_lookups_only
from review.domain.engine import CLOCK
from review.repository import ReviewRepository
from review.schemas import is_overdue

log = get_logger(__name__)


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


def due_first(doc: Document) -> tuple[Any, ...]:
    """The queue's order as the database sorts it: no due time first, then by due time, opening time and id."""
    due, opened = doc.get("due_at"), doc.get("opened_at")
    return (due is not None, due or 0, opened is not None, opened or 0, doc["_id"])


class Queue(Protocol):
    async def page(self, wanted: TaskFilter, now: datetime, *, skip: int, limit: int) -> tuple[list[Document], int]:
        """One page of the queue, sorted by `due_first`, and how many dossiers the filter holds in all."""
        ...

    async def open_of_agency(self, agency: str) -> list[Document]:
        """The agency's open dossiers (for the tab counts)."""
        ...


@dataclass
class IndexedQueue:
    repo: ReviewRepository

    async def page(self, wanted: TaskFilter, now: datetime, *, skip: int, limit: int) -> tuple[list[Document], int]:
        return await self.repo.tasks(wanted.query(now), skip=skip, limit=limit)

    async def open_of_agency(self, agency: str) -> list[Document]:
        return await self.repo.open_of_agency(agency)


@dataclass
class _Copy:
    docs: dict[str, Document]
    position: int
    read_at: float
    # Pages ask in turn (`asked`); a catch-up that began after page n had asked serves it (`covered` >= n).
    asked: int = 0
    covered: int = 0
    catching: asyncio.Task[None] | None = None
    rereading: asyncio.Task[_Copy] | None = None


@dataclass
class CopiedQueue:
    repo: ReviewRepository
    full_read_seconds: float = 300.0
    at_most: int = 500
    clock: Callable[[], float] = time.monotonic
    _copies: dict[str, _Copy] = field(default_factory=dict)
    _first: dict[str, asyncio.Task[_Copy]] = field(default_factory=dict)

    async def page(self, wanted: TaskFilter, now: datetime, *, skip: int, limit: int) -> tuple[list[Document], int]:
        if wanted.include_closed:
            # Closed dossiers are not kept in memory: that rare question goes to the database.
            return await self.repo.tasks(wanted.query(now), skip=skip, limit=limit)
        holds = wanted.predicate(now)
        found = sorted((d for d in await self.open_of_agency(wanted.agency) if holds(d)), key=due_first)
        return found[skip : skip + limit], len(found)

    async def open_of_agency(self, agency: str) -> list[Document]:
        copy = self._copies.get(agency)
        if copy is None:
            first = self._first.get(agency)
            if first is None:
                first = self._first[agency] = asyncio.ensure_future(self._read_whole(agency))
            try:
                copy = self._copies.setdefault(agency, await asyncio.shield(first))
            finally:
                self._first.pop(agency, None)
        copy.asked += 1
        ticket = copy.asked
        while copy.covered < ticket:
            if copy.catching is None:
                copy.catching = asyncio.ensure_future(self._catch_up(agency, copy, copy.asked))
            await asyncio.shield(copy.catching)
        if copy.rereading is None and self.clock() - copy.read_at > self.full_read_seconds:
            copy.rereading = asyncio.ensure_future(self._read_whole(agency))
        return list(copy.docs.values())

    async def _read_whole(self, agency: str) -> _Copy:
        began = self.clock()
        # The log's end first: whatever changes during the read is read again after it.
        position = await self.repo.changes.end(agency)
        docs = {d["_id"]: d for d in await self.repo.open_tasks_of_agency(agency)}
        log.info("review.queue.read", agency=agency, open=len(docs), seconds=round(self.clock() - began, 3))
        return _Copy(docs=docs, position=position, read_at=began)

    async def _catch_up(self, agency: str, copy: _Copy, covers: int) -> None:
        try:
            if copy.rereading is not None and copy.rereading.done():
                reread, copy.rereading = copy.rereading, None
                if reread.exception() is None:
                    fresh = reread.result()
                    copy.docs, copy.position, copy.read_at = fresh.docs, fresh.position, fresh.read_at
                else:
                    log.warning("review.queue.read_failed", agency=agency, exc_info=reread.exception())
            changes = await self.repo.changes.since(agency, copy.position, at_most=self.at_most)
            if changes.ids is None:
                fresh = await self._read_whole(agency)
                copy.docs, copy.position, copy.read_at = fresh.docs, fresh.position, fresh.read_at
            else:
                rows = await self.repo.task_rows(changes.ids)
                for doc_id in changes.ids:
                    doc = rows.get(doc_id)
                    if doc is None or doc["terminal"] or doc.get("agency_code") != agency:
                        copy.docs.pop(doc_id, None)
                    else:
                        copy.docs[doc_id] = doc
                copy.position = changes.position
            copy.covered = covers
        finally:
            copy.catching = None


@dataclass
class ServerQueue:
    """The queue that suits the server this process found (known once the runtime has started)."""

    indexed: IndexedQueue
    copied: CopiedQueue

    @classmethod
    def of(cls, repo: ReviewRepository, *, full_read_seconds: float) -> ServerQueue:
        return cls(IndexedQueue(repo), CopiedQueue(repo, full_read_seconds=full_read_seconds))

    def _chosen(self) -> Queue:
        return self.copied if id_lookups_only() else self.indexed

    async def page(self, wanted: TaskFilter, now: datetime, *, skip: int, limit: int) -> tuple[list[Document], int]:
        return await self._chosen().page(wanted, now, skip=skip, limit=limit)

    async def open_of_agency(self, agency: str) -> list[Document]:
        return await self._chosen().open_of_agency(agency)
