"""Transactional outbox on one document: the state change and its events in a single update.

An aggregate document carries `outbox` (pending entries, oldest first), `outbox_pending` (indexed flag) and
`outbox_rev` (bumped by every write that appends). The relay leases a batch of documents, publishes each one's
entries in order with the idempotent producer, then removes exactly those entries unless the document gained new
ones meanwhile (checked by `outbox_rev`; it then removes what it sent on a fresh read). A relay that
dies between publishing and marking publishes again later: consumers dedupe by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from hoso.errors import is_transient
from hoso.events.envelope import Envelope
from hoso.health import Readiness
from hoso.logs import get_logger
from hoso.metrics import OUTBOX_BACKLOG, OUTBOX_PUBLISHED, TRANSIENT_FAILURES
from hoso.mongo import Document, IndexSpec

log = get_logger(__name__)

Publisher = Callable[[str, Envelope], Awaitable[None]]

# FerretDB v1 stops answering an update command of about a hundred statements; bulk writes go in smaller chunks.
_BULK_CHUNK = 50


def outbox_indexes(collection: str) -> list[IndexSpec]:
    return [IndexSpec(collection, [("outbox_pending", 1), ("relay_lease", 1)], name="outbox_pending")]


def with_outbox(update: Document, events: Sequence[tuple[str, Envelope]]) -> Document:
    """Extend a MongoDB update so that it also appends `events` (topic, envelope) to the outbox."""
    entries = [
        # The envelope is kept as JSON text: payload keys come from users and may hold dots or dollars.
        {"event_id": event.id, "topic": topic, "envelope": event.model_dump_json()}
        for topic, event in events
    ]
    merged = {key: dict(value) for key, value in update.items()}
    merged.setdefault("$push", {})["outbox"] = {"$each": entries}
    merged.setdefault("$inc", {})["outbox_rev"] = 1
    merged.setdefault("$set", {})["outbox_pending"] = True
    return merged


def initial_outbox(events: Sequence[tuple[str, Envelope]]) -> Document:
    """The outbox fields of a document inserted together with its first events."""
    pushed = with_outbox({}, events)
    return {"outbox": pushed["$push"]["outbox"]["$each"], "outbox_rev": 1, "outbox_pending": True}


def _cleared_update(remaining: list[dict[str, Any]]) -> Document:
    return {"$set": {"outbox": remaining, "outbox_pending": bool(remaining), "relay_lease": None, "relay_owner": None}}


class OutboxRelay:
    """Publishes pending outbox entries of one collection; wake() after a write, polls as a safety net."""

    def __init__(
        self,
        collection: AsyncCollection[Document],
        publish: Publisher,
        *,
        service: str,
        readiness: Readiness,
        poll_seconds: float = 1.0,
        lease_seconds: float = 30.0,
        batch_size: int = 100,
    ) -> None:
        self._collection = collection
        self._publish = publish
        self._service = service
        self._readiness = readiness
        self._poll = poll_seconds
        self._lease = timedelta(seconds=lease_seconds)
        self._batch_size = batch_size
        self._wakeup = asyncio.Event()
        self._component = f"outbox:{collection.name}"

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self.drain()
                self._readiness.recover(self._component)
                backoff = 0.2
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("outbox.relay_error", collection=self._collection.name)
                TRANSIENT_FAILURES.labels(self._service, self._component).inc()
                self._readiness.degrade(self._component, f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll)
            self._wakeup.clear()

    async def drain(self) -> int:
        """Publish everything pending now; returns how many entries were published."""
        published = 0
        while docs := await self._claim_batch():
            published += await self._relay_batch(docs)
        OUTBOX_BACKLOG.labels(self._service).set(await self._collection.count_documents({"outbox_pending": True}))
        return published

    async def _claim_batch(self) -> list[Document]:
        """Lease up to `batch_size` pending documents to this pass (other relays skip them until it runs out)."""
        now = datetime.now(UTC)
        free = {"outbox_pending": True, "$or": [{"relay_lease": None}, {"relay_lease": {"$lt": now}}]}
        ids = [d["_id"] async for d in self._collection.find(free, projection={"_id": 1}, limit=self._batch_size)]
        if not ids:
            return []
        token = uuid.uuid4().hex
        await self._collection.update_many(
            {"_id": {"$in": ids}, **free}, {"$set": {"relay_lease": now + self._lease, "relay_owner": token}}
        )
        return [d async for d in self._collection.find({"_id": {"$in": ids}, "relay_owner": token})]

    async def _relay_batch(self, docs: list[Document]) -> int:
        # Documents are published concurrently (the producer batches them); the entries of one document in order.
        counts = await asyncio.gather(*(self._publish_entries(doc) for doc in docs))
        OUTBOX_PUBLISHED.labels(self._service).inc(sum(counts))
        await self._mark_batch(docs)
        return sum(counts)

    async def _publish_entries(self, doc: Document) -> int:
        entries: list[dict[str, Any]] = doc.get("outbox", [])
        for entry in entries:
            await self._publish(entry["topic"], Envelope.model_validate_json(entry["envelope"]))
        return len(entries)

    async def _mark_batch(self, docs: list[Document]) -> None:
        updates = [UpdateOne({"_id": doc["_id"], "outbox_rev": doc["outbox_rev"]}, _cleared_update([])) for doc in docs]
        matched = 0
        for start in range(0, len(updates), _BULK_CHUNK):
            result = await self._collection.bulk_write(updates[start : start + _BULK_CHUNK], ordered=False)
            matched += result.matched_count
        if matched == len(docs):
            return
        # Some documents gained entries while we published: remove just what was sent, on a fresh read.
        for doc in docs:
            await self._mark_sent(doc, {entry["event_id"] for entry in doc.get("outbox", [])})

    async def _mark_sent(self, doc: Document, sent: set[str]) -> None:
        while True:
            remaining = [e for e in doc.get("outbox", []) if e["event_id"] not in sent]
            result = await self._collection.update_one(
                {"_id": doc["_id"], "outbox_rev": doc["outbox_rev"]}, _cleared_update(remaining)
            )
            if result.matched_count == 1:
                return
            fresh = await self._collection.find_one({"_id": doc["_id"]})
            if fresh is None:
                return
            doc = fresh
