"""The only module that talks to notify's MongoDB database."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hoso.mongo import Document, IndexSpec, upsert, write_many
from hoso.versioned import VersionedStore

DOSSIERS = "dossiers"
RECIPIENTS = "recipients"
DELIVERIES = "deliveries"
INBOX = "inbox"

INDEXES = [
    IndexSpec(DELIVERIES, [("final", 1), ("next_attempt_at", 1)], name="due"),
    IndexSpec(DELIVERIES, [("dossier_code", 1), ("created_at", 1)], name="by_dossier"),
    IndexSpec(INBOX, [("recipient_id", 1), ("created_at", -1)], name="by_recipient"),
    IndexSpec(RECIPIENTS, [("agency_code", 1), ("roles", 1)], name="by_agency_role"),
]


class NotifyRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.dossiers: AsyncCollection[Document] = db[DOSSIERS]
        self.recipients: AsyncCollection[Document] = db[RECIPIENTS]
        self.deliveries: AsyncCollection[Document] = db[DELIVERIES]
        self.inbox: AsyncCollection[Document] = db[INBOX]
        self.store = VersionedStore(self.deliveries)

    # --- what notify knows of a dossier (written by the consumer of the dossier's partition only) -----------------

    async def remember_dossier(self, dossier_id: str, fields: Document) -> None:
        await upsert(lambda: self.dossiers.update_one({"_id": dossier_id}, {"$set": fields}, upsert=True))

    async def remember_dossiers(self, changes: Mapping[str, Document]) -> None:
        """Several dossiers' new fields in few commands (one by one again if a concurrent first write refused one)."""
        updates = [{"q": {"_id": i}, "u": {"$set": fields}, "upsert": True} for i, fields in changes.items()]
        if await write_many(self.dossiers, "update", updates, ordered=False):
            for dossier_id, fields in changes.items():
                await self.remember_dossier(dossier_id, fields)

    async def dossier(self, dossier_id: str) -> Document | None:
        return await self.dossiers.find_one({"_id": dossier_id})

    # --- recipients: the officers' directory and everyone's preferences --------------------------------------------

    async def load_directory(self, officers: Sequence[Document]) -> None:
        """Officers from the directory file; preferences an officer set themself are kept."""
        for officer in officers:
            contact: Document = {k: v for k, v in officer.items() if k not in {"_id", "language", "channels"}}
            defaults: Document = {k: officer[k] for k in ("language", "channels") if k in officer}
            existing = await self.recipients.find_one({"_id": officer["_id"]}, projection={"self_managed": 1})
            fields = contact if existing is not None and existing.get("self_managed") else {**contact, **defaults}
            await upsert(partial(self.recipients.update_one, {"_id": officer["_id"]}, {"$set": fields}, upsert=True))

    async def recipient(self, recipient_id: str) -> Document | None:
        return await self.recipients.find_one({"_id": recipient_id})

    async def leaders_of(self, agency_code: str) -> list[Document]:
        cursor = self.recipients.find({"agency_code": agency_code, "roles": "leader"}).sort("_id", 1)
        return [doc async for doc in cursor]

    async def save_preferences(self, recipient_id: str, fields: Document) -> Document:
        await upsert(
            lambda: self.recipients.update_one(
                {"_id": recipient_id}, {"$set": {**fields, "self_managed": True}}, upsert=True
            )
        )
        found = await self.recipient(recipient_id)
        assert found is not None
        return found

    # --- deliveries -----------------------------------------------------------------------------------------------

    async def due_deliveries(self, now: datetime, limit: int = 500) -> list[Document]:
        cursor = self.deliveries.find({"final": False, "next_attempt_at": {"$lte": now}}, projection={"_id": 1}).limit(
            limit
        )
        return [doc async for doc in cursor]

    async def deliveries_of(self, dossier_code: str) -> list[Document]:
        cursor = self.deliveries.find({"dossier_code": dossier_code}, projection={"outbox": 0, "envelope": 0})
        return sorted([doc async for doc in cursor], key=lambda d: (d["created_at"], d["_id"]))

    # --- the in-app inbox -----------------------------------------------------------------------------------------

    async def add_to_inbox(self, item: Document) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self.inbox.insert_one(item)

    async def inbox_of(self, recipient_id: str, *, unread: bool, skip: int, limit: int) -> tuple[list[Document], int]:
        query: dict[str, Any] = {"recipient_id": recipient_id}
        if unread:
            query["read_at"] = None
        total = await self.inbox.count_documents(query)
        cursor = self.inbox.find(query).sort([("created_at", -1), ("_id", 1)]).skip(skip).limit(limit)
        return [doc async for doc in cursor], total

    async def mark_read(self, recipient_id: str, item_id: str, now: datetime) -> Document | None:
        item = await self.inbox.find_one({"_id": item_id, "recipient_id": recipient_id})
        if item is None:
            return None
        if item.get("read_at") is None:
            await self.inbox.update_one({"_id": item_id, "read_at": None}, {"$set": {"read_at": now}})
            item["read_at"] = now
        return item
