"""Drafts: a dossier being prepared, kept for its author alone until submitted or until it expires.

A draft has no code, emits no event and changes no workflow; it is deleted `retention` after its last change
(INTAKE_DRAFT_RETENTION_DAYS) by a sweep that every intake process runs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from hoso.logs import get_logger
from hoso.mongo import Document, IndexSpec, bson_now
from hoso.steps import Step
from hoso.store import Order, Store
from hoso.versioned import VersionConflict

log = get_logger(__name__)

DRAFTS = "drafts"
DRAFT_INDEXES = [
    IndexSpec(DRAFTS, [("owner", 1), ("updated_at", -1)], name="owner_recent"),
    IndexSpec(DRAFTS, [("expires_at", 1)], name="expires"),
]


LATEST_FIRST = Order([("updated_at", -1)])


class DraftNotFound(Exception):
    def __init__(self, draft_id: str) -> None:
        super().__init__(f"no draft {draft_id} of yours")


class DraftStore:
    """Drafts as versioned documents (`hoso.versioned`): each change is a numbered step, so two writers of one draft
    at once (two files sent together) never lose each other's change, on FerretDB v1 as on MongoDB. A deleted or
    expired draft is gone for its author at once and swept, with its steps, by `sweep`."""

    def __init__(self, store: Store, *, retention: timedelta) -> None:
        self._store = store.versioned(DRAFTS)
        self.collection = self._store.table
        self._retention = retention

    async def create(self, owner: str, content: Document) -> Document:
        now = bson_now()
        draft_id = uuid.uuid4().hex
        step = Step(fields={"owner": owner, "created_at": now, **self._changed(content, now)})
        return await self._store.commit(draft_id, None, step)

    async def get(self, owner: str, draft_id: str) -> Document:
        doc = await self._store.get(draft_id)
        if not _live(doc, owner):
            raise DraftNotFound(draft_id)
        assert doc is not None
        return doc

    async def replace(self, owner: str, draft_id: str, content: Document) -> Document:
        changed = self._changed(content, bson_now())
        return await self._change(owner, draft_id, lambda _: changed)

    async def replace_if_unchanged(self, draft: Document, content: Document) -> Document | None:
        """Replace `draft` (as read) with `content` unless it changed since it was read (None then: read it again)."""
        try:
            return await self._store.commit(draft["_id"], draft, Step(fields=self._changed(content, bson_now())))
        except VersionConflict:
            return None

    async def delete(self, owner: str, draft_id: str) -> None:
        now = bson_now()
        await self._change(owner, draft_id, lambda _: {"deleted_at": now, "expires_at": now})

    async def list_for(self, owner: str, *, limit: int = 50) -> list[Document]:
        live = {"owner": owner, "expires_at": {"$gt": bson_now()}}
        return await self.collection.find(live, order=LATEST_FIRST, limit=limit)

    async def sweep(self, now: datetime | None = None) -> int:
        """Delete the drafts expired (or deleted) by `now`, with whatever their versions left behind."""
        now = now or bson_now()
        expired = await self.collection.find({"expires_at": {"$lte": now}}, {"_id": 1})
        for doc in expired:
            await self._store.delete(doc["_id"])
        # What a writer that died half-way left of a draft that never was.
        await self._store.forget_before(now - self._retention)
        return len(expired)

    async def sweep_forever(self, interval: float = 3600.0) -> None:
        while True:
            try:
                deleted = await self.sweep()
                if deleted:
                    log.info("drafts.swept", deleted=deleted)
            except Exception as exc:  # a failed sweep is tried again at the next interval
                log.warning("drafts.sweep_failed", error=str(exc))
            await asyncio.sleep(interval)

    async def _change(self, owner: str, draft_id: str, fields: Callable[[Document], Document]) -> Document:
        def decide(current: Document | None) -> Step:
            if not _live(current, owner):
                raise DraftNotFound(draft_id)
            assert current is not None
            return Step(fields=fields(current))

        doc, _ = await self._store.transact(draft_id, decide)
        assert doc is not None
        return doc

    def _changed(self, content: Document, now: datetime) -> Document:
        return {**content, "updated_at": now, "expires_at": now + self._retention}


def _live(doc: Document | None, owner: str) -> bool:
    return doc is not None and doc.get("owner") == owner and doc["expires_at"] > bson_now()
