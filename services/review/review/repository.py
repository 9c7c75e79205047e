"""The only module that talks to review's MongoDB database."""

from __future__ import annotations

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from hoso.idempotency import apply_once
from hoso.mongo import Document, IndexSpec

WORKFLOWS = "workflows"

INDEXES = [
    IndexSpec(WORKFLOWS, [("code", 1)], name="code_unique", unique=True),
    IndexSpec(WORKFLOWS, [("agency_code", 1), ("status_code", 1), ("opened_at", 1)], name="agency_queue"),
]


class WorkflowRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[WORKFLOWS]

    async def open(self, dossier_id: str, event_id: str, fields: Document) -> bool:
        """Open the workflow instance of a dossier once (a redelivered submission changes nothing)."""
        return await apply_once(
            self.collection, doc_id=dossier_id, event_id=event_id, update={"$setOnInsert": fields}, upsert=True
        )

    async def by_code(self, code: str) -> Document | None:
        return await self.collection.find_one({"code": code})
