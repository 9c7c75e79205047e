"""The only module that talks to intake's MongoDB database."""

from __future__ import annotations

from datetime import date
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hoso.idempotency import apply_once
from hoso.mongo import Document, IndexSpec

DOSSIERS = "dossiers"

INDEXES = [
    IndexSpec(DOSSIERS, [("code", 1)], name="code_unique", unique=True),
    IndexSpec(DOSSIERS, [("agency_code", 1), ("day", 1), ("sequence", 1)], name="agency_day_seq", unique=True),
    IndexSpec(DOSSIERS, [("applicant_id", 1), ("idempotency_key", 1)], name="applicant_idem", unique=True),
    IndexSpec(DOSSIERS, [("applicant_id", 1), ("submitted_at", -1)], name="applicant_recent"),
]


class CodeTaken(Exception):
    """Another dossier took this code first; the caller picks the next number."""


class DossierRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[DOSSIERS]

    async def by_idempotency_key(self, applicant_id: str, key: str) -> Document | None:
        return await self.collection.find_one({"applicant_id": applicant_id, "idempotency_key": key})

    async def by_code(self, code: str) -> Document | None:
        return await self.collection.find_one({"code": code})

    async def last_sequence(self, agency_code: str, day: date) -> int:
        last = await self.collection.find_one(
            {"agency_code": agency_code, "day": day.isoformat()}, sort=[("sequence", -1)], projection={"sequence": 1}
        )
        return int(last["sequence"]) if last else 0

    async def insert(self, document: Document) -> None:
        """Insert a new dossier; CodeTaken when its number was taken, DuplicateKeyError for a reused key."""
        try:
            await self.collection.insert_one(document)
        except DuplicateKeyError:
            if await self.by_idempotency_key(document["applicant_id"], document["idempotency_key"]) is not None:
                raise
            raise CodeTaken(document["code"]) from None

    async def list_for_applicant(self, applicant_id: str, *, skip: int, limit: int) -> list[Document]:
        cursor = self.collection.find(
            {"applicant_id": applicant_id}, sort=[("submitted_at", -1)], skip=skip, limit=limit
        )
        return [doc async for doc in cursor]

    async def record_status(self, dossier_id: str, event_id: str, status_code: int, at: Any) -> bool:
        """Intake's own view of the public status, from review's events; each event applies once."""
        return await apply_once(
            self.collection,
            doc_id=dossier_id,
            event_id=event_id,
            update={"$set": {"status_code": status_code, "status_updated_at": at}},
        )
