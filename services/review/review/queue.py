"""The desk's queues: an agency's open dossiers, filtered, sorted by what is due first and paged.

Two ways to answer, chosen from the server the client found:

- `IndexedQueue` (MongoDB): each page is one indexed query and one count.
- `SnapshotQueue` (FerretDB v1): any filter beyond a bare `_id` reads the whole collection there, so each agency's
  open dossiers are read into memory and every page is filtered, sorted and cut from that copy. A copy is read
  again once it is older than `READS_APART` times its last read took, and never older than `max_age`: a small
  agency's queue is fresh, a large one's costs the database a bounded share of its time. A stale copy is refreshed
  in the background; a page waits for the refresh up to `wait` and otherwise answers from the copy it has, so a page
  never waits for a whole read of a large agency. What this process writes is applied to the copy at once; what
  other processes write shows once the copy is read again (within `max_age` and one read).
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
from review.repository import ReviewRepository
from review.schemas import is_overdue

log = get_logger(__name__)

# A copy is read again once it is older than this many times its last read took (capped by `max_age`).
READS_APART = 10


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
            query.update(due_at={"$lt": now}, paused_at=None, terminal=False)
        elif self.overdue is False:
            ands.append({"$or": [{"due_at": None}, {"due_at": {"$gte": now}}, {"paused_at": {"$ne": None}}]})
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

    def saw(self, doc: Document) -> None:
        """A dossier this process has just written."""
        ...


@dataclass
class IndexedQueue:
    repo: ReviewRepository

    async def page(self, wanted: TaskFilter, now: datetime, *, skip: int, limit: int) -> tuple[list[Document], int]:
        return await self.repo.tasks(wanted.query(now), skip=skip, limit=limit)

    async def open_of_agency(self, agency: str) -> list[Document]:
        return await self.repo.open_of_agency(agency)

    def saw(self, doc: Document) -> None:
        return None


@dataclass
class _Copy:
    docs: dict[str, Document]
    taken_at: float
    read_seconds: float
    refresh: asyncio.Task[None] | None = None
    # Ids this process wrote, with when: a read that began before such a write must not undo it.
    written: dict[str, float] = field(default_factory=dict)


@dataclass
class SnapshotQueue:
    repo: ReviewRepository
    max_age: float = 2.0
    wait: float = 0.15
    clock: Callable[[], float] = time.monotonic
    _copies: dict[str, _Copy] = field(default_factory=dict)
    _first: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    async def page(self, wanted: TaskFilter, now: datetime, *, skip: int, limit: int) -> tuple[list[Document], int]:
        if wanted.include_closed:
            # Closed dossiers are not kept in memory: that rare question goes to the database.
            return await self.repo.tasks(wanted.query(now), skip=skip, limit=limit)
        holds = wanted.predicate(now)
        found = sorted((d for d in await self._open(wanted.agency) if holds(d)), key=due_first)
        return found[skip : skip + limit], len(found)

    async def open_of_agency(self, agency: str) -> list[Document]:
        return await self._open(agency)

    def saw(self, doc: Document) -> None:
        copy = self._copies.get(doc["agency_code"])
        if copy is None:
            return
        current = copy.docs.get(doc["_id"])
        if current is None or current.get("version", 0) <= doc.get("version", 0):
            copy.docs[doc["_id"]] = doc
            copy.written[doc["_id"]] = self.clock()

    async def _open(self, agency: str) -> list[Document]:
        copy = self._copies.get(agency)
        if copy is None:
            first = self._first.get(agency)
            if first is None:
                first = self._first[agency] = asyncio.ensure_future(self._read(agency))
            await asyncio.shield(first)
            copy = self._copies[agency]
        elif self.clock() - copy.taken_at > min(self.max_age, READS_APART * copy.read_seconds):
            if copy.refresh is None:
                copy.refresh = asyncio.ensure_future(self._read(agency))
            await asyncio.wait([copy.refresh], timeout=self.wait)
            copy = self._copies[agency]
        return [d for d in copy.docs.values() if not d["terminal"]]

    async def _read(self, agency: str) -> None:
        began = self.clock()
        previous = self._copies.get(agency)
        try:
            docs = {d["_id"]: d for d in await self.repo.open_tasks_of_agency(agency)}
        except Exception:
            if previous is None:
                raise
            # The copy in hand stays in use; the next page tries again.
            log.warning("review.queue.refresh_failed", agency=agency, exc_info=True)
            previous.refresh = None
            return
        finally:
            self._first.pop(agency, None)
        written: dict[str, float] = {}
        if previous is not None:
            for doc_id, at in previous.written.items():
                mine, read = previous.docs[doc_id], docs.get(doc_id)
                if at >= began or (read is not None and read.get("version", 0) < mine.get("version", 0)):
                    docs[doc_id] = mine
                    written[doc_id] = at
        took = self.clock() - began
        self._copies[agency] = _Copy(docs=docs, taken_at=began, read_seconds=took, written=written)
        log.debug("review.queue.read", agency=agency, open=len(docs), seconds=round(took, 3))


@dataclass
class ServerQueue:
    """The queue that suits the server this process found (known once the runtime has started)."""

    indexed: IndexedQueue
    snapshot: SnapshotQueue

    @classmethod
    def of(cls, repo: ReviewRepository, *, max_age: float, wait: float) -> ServerQueue:
        return cls(IndexedQueue(repo), SnapshotQueue(repo, max_age=max_age, wait=wait))

    def _chosen(self) -> Queue:
        return self.snapshot if id_lookups_only() else self.indexed

    async def page(self, wanted: TaskFilter, now: datetime, *, skip: int, limit: int) -> tuple[list[Document], int]:
        return await self._chosen().page(wanted, now, skip=skip, limit=limit)

    async def open_of_agency(self, agency: str) -> list[Document]:
        return await self._chosen().open_of_agency(agency)

    def saw(self, doc: Document) -> None:
        self._chosen().saw(doc)
