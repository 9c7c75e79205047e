"""Drafts: a dossier being prepared, kept for its author alone until submitted or until it expires.

A draft has no code, emits no event and changes no workflow; it is deleted `retention` after its last change
(INTAKE_DRAFT_RETENTION_DAYS) by a sweep that every intake process runs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from hoso.logs import get_logger
from hoso.mongo import Document, IndexSpec, bson_now
from hoso.steps import Step
from hoso.versioned import VersionConflict, VersionedStore, step_id

log = get_logger(__name__)

DRAFTS = "drafts"
DRAFT_INDEXES = [
    IndexSpec(DRAFTS, [("owner", 1), ("updated_at", -1)], name="owner_recent"),
    IndexSpec(DRAFTS, [("expires_at", 1)], name="expires"),
]


class DraftNotFound(Exception):
    def __init__(self, draft_id: str) -> None:
        super().__init__(f"no draft {draft_id} of yours")


class DraftStore:
    """Drafts as versioned documents (`hoso.versioned`): each change is a numbered step, so two writers of one draft
    at once (two files sent together) never lose each other's change, on FerretDB v1 as on MongoDB. A deleted or
    expired draft is gone for its author at once and swept, with its steps, by `sweep`."""

    def __init__(self, db: AsyncDatabase[Document], *, retention: timedelta) -> None:
        self.collection: AsyncCollection[Document] = db[DRAFTS]
        self._store = VersionedStore(self.collection)
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
        cursor = self.collection.find({"owner": owner, "expires_at": {"$gt": bson_now()}})
        return await cursor.sort("updated_at", -1).limit(limit).to_list()

    async def sweep(self, now: datetime | None = None) -> int:
        """Delete the drafts expired (or deleted) by `now`, their steps first (a draft is rebuilt from its steps)."""
        now = now or bson_now()
        expired = await self.collection.find({"expires_at": {"$lte": now}}, projection={"version": 1}).to_list()
        for doc in expired:
            steps = [step_id(doc["_id"], v) for v in range(1, doc["version"] + 2)]  # and one written meanwhile
            await asyncio.gather(*(self._store.steps.delete_one({"_id": s}) for s in steps))
            await self.collection.delete_one({"_id": doc["_id"]})
        # Steps of drafts whose document was never written (the writer died between its two writes).
        await self._store.steps.delete_many({"at": {"$lte": now - self._retention}})
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
