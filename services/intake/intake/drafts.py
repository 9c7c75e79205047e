"""Drafts: a dossier being prepared, kept for its author alone until submitted or until it expires.

A draft has no code, emits no event and changes no workflow; it is deleted `retention` after its last change
(INTAKE_DRAFT_RETENTION_DAYS) by a sweep that every intake process runs.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from hoso.logs import get_logger
from hoso.mongo import Document, IndexSpec, bson_now

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
    def __init__(self, db: AsyncDatabase[Document], *, retention: timedelta) -> None:
        self.collection: AsyncCollection[Document] = db[DRAFTS]
        self._retention = retention

    async def create(self, owner: str, content: Document) -> Document:
        now = bson_now()
        doc: Document = {
            "_id": uuid.uuid4().hex,
            "owner": owner,
            "created_at": now,
            **self._changed(content, now),
        }
        await self.collection.insert_one(doc)
        return doc

    async def get(self, owner: str, draft_id: str) -> Document:
        doc = await self.collection.find_one({"_id": draft_id})
        if doc is None or doc["owner"] != owner or doc["expires_at"] <= bson_now():
            raise DraftNotFound(draft_id)
        return doc

    async def replace(self, owner: str, draft_id: str, content: Document) -> Document:
        current = await self.get(owner, draft_id)
        changed = self._changed(content, bson_now())
        await self.collection.update_one({"_id": draft_id}, {"$set": changed})
        return {**current, **changed}

    async def replace_if_unchanged(self, draft: Document, content: Document) -> Document | None:
        """Replace `draft` (as read) with `content` unless it changed since it was read (None then: read it again)."""
        changed = self._changed(content, bson_now())
        result = await self.collection.update_one(
            {"_id": draft["_id"], "updated_at": draft["updated_at"]}, {"$set": changed}
        )
        return {**draft, **changed} if result.modified_count == 1 else None

    async def delete(self, owner: str, draft_id: str) -> None:
        await self.get(owner, draft_id)
        await self.collection.delete_one({"_id": draft_id})

    async def list_for(self, owner: str, *, limit: int = 50) -> list[Document]:
        cursor = self.collection.find({"owner": owner, "expires_at": {"$gt": bson_now()}})
        return await cursor.sort("updated_at", -1).limit(limit).to_list()

    async def sweep(self, now: datetime | None = None) -> int:
        result = await self.collection.delete_many({"expires_at": {"$lte": now or bson_now()}})
        return result.deleted_count

    async def sweep_forever(self, interval: float = 3600.0) -> None:
        while True:
            try:
                deleted = await self.sweep()
                if deleted:
                    log.info("drafts.swept", deleted=deleted)
            except Exception as exc:  # a failed sweep is tried again at the next interval
                log.warning("drafts.sweep_failed", error=str(exc))
            await asyncio.sleep(interval)

    def _changed(self, content: Document, now: datetime) -> Document:
        return {**content, "updated_at": now, "expires_at": now + self._retention}
