"""Transactional outbox on one document: the state change and its events in a single update.

An aggregate document carries `outbox`, its events in order (append-only, kept as the aggregate's own record),
`outbox_rev` (how many there are) and `outbox_at` (when the last one was appended). The relay never writes the
aggregate: it keeps how many entries of each aggregate it has published in a progress collection of its own, so an
application write and a relay pass can never overwrite each other (FerretDB v1 applies an update as a read followed
by a write of the whole document, so two writers of one document can lose each other's change). A relay that dies
between publishing and recording its progress publishes again later: consumers dedupe by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from hoso.events.envelope import Envelope
from hoso.faults import is_transient
from hoso.health import Readiness
from hoso.logs import get_logger
from hoso.metrics import OUTBOX_BACKLOG, OUTBOX_PUBLISHED, TRANSIENT_FAILURES
from hoso.mongo import Document, IndexSpec, bson_now
from hoso.store import Table

log = get_logger(__name__)

Publisher = Callable[[str, Envelope], Awaitable[None]]

# Appends are looked for again this far back, so writers whose clocks lag a little are not missed.
_LOOKBACK = timedelta(minutes=5)
_WATERMARK = "watermark"


def progress_collection_name(collection: str) -> str:
    return f"{collection}_outbox_progress"


def outbox_indexes(collection: str) -> list[IndexSpec]:
    return [IndexSpec(collection, [("outbox_at", 1)], name="outbox_at")]


def outbox_entries(events: Sequence[tuple[str, Envelope]]) -> list[Document]:
    # The envelope is kept as JSON text: payload keys come from users and may hold dots or dollars.
    return [{"event_id": event.id, "topic": topic, "envelope": event.model_dump_json()} for topic, event in events]


def with_outbox(update: Document, events: Sequence[tuple[str, Envelope]]) -> Document:
    """Extend a MongoDB update so that it also appends `events` (topic, envelope) to the outbox."""
    merged = {key: dict(value) for key, value in update.items()}
    merged.setdefault("$push", {})["outbox"] = {"$each": outbox_entries(events)}
    merged.setdefault("$inc", {})["outbox_rev"] = len(events)
    merged.setdefault("$set", {})["outbox_at"] = bson_now()
    return merged


def initial_outbox(events: Sequence[tuple[str, Envelope]]) -> Document:
    """The outbox fields of a document inserted together with its first events."""
    return {"outbox": outbox_entries(events), "outbox_rev": len(events), "outbox_at": bson_now()}


class OutboxRelay:
    """Publishes new outbox entries of one collection; wake() after a write, polls as a safety net."""

    def __init__(
        self,
        table: Table,
        publish: Publisher,
        *,
        service: str,
        readiness: Readiness,
        poll_seconds: float = 1.0,
        batch_size: int = 100,
    ) -> None:
        self._table = table
        self._progress = table.store.table(progress_collection_name(table.name))
        self._marks = table.store.table(f"{table.name}_outbox_relay")
        self._publish = publish
        self._service = service
        self._readiness = readiness
        self._poll = poll_seconds
        self._batch_size = batch_size
        self._wakeup = asyncio.Event()
        self._hinted: set[Any] = set()
        self._full = True
        # Where this relay's last full look began; None at first (then the watermark, or every aggregate).
        self._since: datetime | None = None
        # How many entries of each recent aggregate are known to be published: a lower bound (progress only grows),
        # so an aggregate whose revision is not above it needs no look at its progress.
        self._known: dict[Any, int] = {}
        self._component = f"outbox:{table.name}"

    def wake(self, doc_id: Any = None) -> None:
        """Publish soon: the new entries of aggregate `doc_id`, or (no id) of every aggregate."""
        if doc_id is None:
            self._full = True
        else:
            self._hinted.add(doc_id)
        self._wakeup.set()

    async def run(self) -> None:
        """Publish hinted aggregates as they are written; look at every aggregate each `poll_seconds`.

        The full look catches what no hint named (another process's write whose process died before publishing);
        hints keep the common case to `_id` look-ups, since anything else reads the whole collection on FerretDB v1.
        """
        backoff = 0.2
        next_full = 0.0
        while True:
            try:
                if self._full or time.monotonic() >= next_full:
                    self._full = False
                    self._hinted.clear()
                    await self.drain()
                    next_full = time.monotonic() + self._poll
                elif self._hinted:
                    hinted = list(self._hinted)
                    self._hinted.clear()
                    await self.drain_ids(hinted)
                self._readiness.recover(self._component)
                backoff = 0.2
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("outbox.relay_error", collection=self._table.name)
                TRANSIENT_FAILURES.labels(self._service, self._component).inc()
                self._readiness.degrade(self._component, f"{type(exc).__name__}: {exc}")
                self._full = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), max(0.0, next_full - time.monotonic()))
            self._wakeup.clear()

    async def drain(self) -> int:
        """Publish every entry not published yet; returns how many were published."""
        started = datetime.now(UTC)
        if self._since is None:
            # Where the last full look of any relay of this collection began: what was appended before that (less
            # the look-back) has been published, so a relay starting up need not read every aggregate again.
            mark = await self._marks.get(_WATERMARK)
            self._since = mark["at"] if mark is not None else None
        query: Document = {"outbox_rev": {"$gt": 0}}
        if self._since is not None:
            query["outbox_at"] = {"$gte": self._since - _LOOKBACK}
        revisions = {d["_id"]: d["outbox_rev"] for d in await self._table.find(query, {"outbox_rev": 1})}
        if self._since is not None:
            # Only aggregates written lately are looked at from now on: forget the others.
            self._known = {i: n for i, n in self._known.items() if i in revisions}
        pending = await self._pending(revisions)
        OUTBOX_BACKLOG.labels(self._service).set(len(pending))
        published = 0
        for start in range(0, len(pending), self._batch_size):
            batch = pending[start : start + self._batch_size]
            published += await self._relay_batch(batch, await self._table.get_many(i for i, _ in batch))
        self._since = started
        with contextlib.suppress(DuplicateKeyError):
            await self._marks.update(_WATERMARK, {"$max": {"at": started}}, upsert=True)
        return published

    async def drain_ids(self, doc_ids: Sequence[Any]) -> int:
        """Publish the entries not published yet of these aggregates."""
        docs = await self._table.get_many(doc_ids)
        pending = await self._pending({i: d.get("outbox_rev", 0) for i, d in docs.items()})
        return await self._relay_batch(pending, docs)

    async def _pending(self, revisions: dict[Any, int]) -> list[tuple[Any, int]]:
        """(aggregate id, entries already published) of the aggregates with something to publish."""
        unknown = [i for i, rev in revisions.items() if rev > self._known.get(i, 0)]
        if not unknown:
            return []
        for i, d in (await self._progress.get_many(unknown)).items():
            self._learn(i, d["sent"])
        return [(i, self._known.get(i, 0)) for i in unknown if revisions[i] > self._known.get(i, 0)]

    def _learn(self, doc_id: Any, sent: int) -> None:
        self._known[doc_id] = max(sent, self._known.get(doc_id, 0))

    async def _relay_batch(self, pending: list[tuple[Any, int]], docs: dict[Any, Document]) -> int:
        # Aggregates are published concurrently (the producer batches them); the entries of one in order.
        counts = await asyncio.gather(*(self._relay_one(docs[i], sent) for i, sent in pending if i in docs))
        OUTBOX_PUBLISHED.labels(self._service).inc(sum(counts))
        return sum(counts)

    async def _relay_one(self, doc: Document, already_sent: int) -> int:
        entries: list[dict[str, Any]] = doc.get("outbox", [])[already_sent:]
        for entry in entries:
            await self._publish(entry["topic"], Envelope.model_validate_json(entry["envelope"]))
        if entries:
            await self._record_progress(doc["_id"], already_sent + len(entries))
            self._learn(doc["_id"], already_sent + len(entries))
        return len(entries)

    async def _record_progress(self, doc_id: Any, sent: int) -> None:
        # Only relays write progress, and only forwards ($max); a lost race merely publishes an entry again.
        with contextlib.suppress(DuplicateKeyError):
            await self._progress.update(doc_id, {"$max": {"sent": sent}, "$set": {"at": bson_now()}}, upsert=True)
