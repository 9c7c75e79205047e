"""The only module that talks to notify's MongoDB database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hoso.mongo import Document, IndexSpec
from hoso.store import Guard, Order, Store, Write

DOSSIERS = "dossiers"
RECIPIENTS = "recipients"
DELIVERIES = "deliveries"
INBOX = "inbox"

INDEXES = [
    IndexSpec(DELIVERIES, [("final", 1), ("next_attempt_at", 1)], name="due"),
    IndexSpec(DELIVERIES, [("dossier_code", 1), ("created_at", 1)], name="by_dossier"),
    IndexSpec(INBOX, [("recipient_id", 1), ("created_at", -1)], name="by_recipient"),
    IndexSpec(INBOX, [("dossier_code", 1)], name="by_dossier"),
    IndexSpec(RECIPIENTS, [("agency_code", 1), ("roles", 1)], name="by_agency_role"),
]


NEWEST_FIRST = Order([("created_at", -1), ("_id", 1)])
BY_ID = Order([("_id", 1)])
UNREAD = Guard({"read_at": None}, lambda doc: doc is not None and doc.get("read_at") is None)


class NotifyRepository:
    def __init__(self, store: Store) -> None:
        self.dossiers = store.table(DOSSIERS)
        self.recipients = store.table(RECIPIENTS)
        self.store = store.versioned(DELIVERIES)
        self.deliveries = self.store.table
        self.inbox = store.table(INBOX)

    # --- what notify knows of a dossier (written by the consumer of the dossier's partition only) -----------------

    async def remember_dossier(self, dossier_id: str, fields: Document) -> None:
        await self.dossiers.update(dossier_id, {"$set": fields}, upsert=True)

    async def remember_dossiers(self, changes: Mapping[str, Document]) -> None:
        """Several dossiers' new fields in few commands (one by one again if a concurrent first write refused one)."""
        writes = [Write(i, {"$set": fields}, upsert=True) for i, fields in changes.items()]
        if await self.dossiers.update_many_if(writes, ordered=False):
            for dossier_id, fields in changes.items():
                await self.remember_dossier(dossier_id, fields)

    async def dossier(self, dossier_id: str) -> Document | None:
        return await self.dossiers.get(dossier_id)

    async def forget(self, dossier_id: str, update: Document) -> None:
        """The memory of a dossier once its personal data is erased (`notify.domain.privacy.memory_update`)."""
        await self.dossiers.update(dossier_id, update)

    # --- recipients: the officers' directory and everyone's preferences --------------------------------------------

    async def load_directory(self, officers: Sequence[Document]) -> None:
        """Officers from the directory file; preferences an officer set themself are kept."""
        for officer in officers:
            contact: Document = {k: v for k, v in officer.items() if k not in {"_id", "language", "channels"}}
            defaults: Document = {k: officer[k] for k in ("language", "channels") if k in officer}
            existing = await self.recipients.get(officer["_id"], projection={"self_managed": 1})
            fields = contact if existing is not None and existing.get("self_managed") else {**contact, **defaults}
            await self.recipients.update(officer["_id"], {"$set": fields}, upsert=True)

    async def recipient(self, recipient_id: str) -> Document | None:
        return await self.recipients.get(recipient_id)

    async def leaders_of(self, agency_code: str) -> list[Document]:
        return await self.recipients.find({"agency_code": agency_code, "roles": "leader"}, order=BY_ID)

    async def save_preferences(self, recipient_id: str, fields: Document) -> Document:
        await self.recipients.update(recipient_id, {"$set": {**fields, "self_managed": True}}, upsert=True)
        found = await self.recipient(recipient_id)
        assert found is not None
        return found

    # --- deliveries -----------------------------------------------------------------------------------------------

    async def due_deliveries(self, now: datetime, limit: int = 500) -> list[Document]:
        query = {"final": False, "next_attempt_at": {"$lte": now}}
        return await self.deliveries.find(query, {"_id": 1}, limit=limit)

    async def deliveries_of(self, dossier_code: str) -> list[Document]:
        found = await self.deliveries.find({"dossier_code": dossier_code}, {"outbox": 0, "envelope": 0})
        return sorted(found, key=lambda d: (d["created_at"], d["_id"]))

    async def whole_deliveries_of(self, dossier_code: str) -> list[Document]:
        """The dossier's deliveries as they are kept, everything they hold."""
        return await self.deliveries.find({"dossier_code": dossier_code}, order=BY_ID)

    # --- the in-app inbox -----------------------------------------------------------------------------------------

    async def add_to_inbox(self, item: Document) -> None:
        await self.inbox.insert(item)

    async def inbox_of_dossier(self, dossier_code: str) -> list[Document]:
        return await self.inbox.find({"dossier_code": dossier_code}, order=BY_ID)

    async def rewrite_inbox_item(self, item_id: str, fields: Document) -> None:
        await self.inbox.update(item_id, {"$set": fields})

    async def inbox_of(self, recipient_id: str, *, unread: bool, skip: int, limit: int) -> tuple[list[Document], int]:
        query: dict[str, Any] = {"recipient_id": recipient_id}
        if unread:
            query["read_at"] = None
        return await self.inbox.page(query, order=NEWEST_FIRST, skip=skip, limit=limit)

    async def mark_read(self, recipient_id: str, item_id: str, now: datetime) -> Document | None:
        item = await self.inbox.get(item_id)
        if item is None or item.get("recipient_id") != recipient_id:
            return None
        if item.get("read_at") is None:
            await self.inbox.update_if(item_id, UNREAD, {"$set": {"read_at": now}})
            item["read_at"] = now
        return item
