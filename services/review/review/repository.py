"""The only module that talks to review's MongoDB database."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hoso.mongo import Document, IndexSpec, bson_now, upsert
from hoso.versioned import Decide, VersionedStore
from review.domain.definition import WorkflowDefinition

INSTANCES = "instances"
CODES = "codes"
DEFINITIONS = "workflow_definitions"

INDEXES = [
    IndexSpec(INSTANCES, [("agency_code", 1), ("terminal", 1), ("due_at", 1)], name="agency_queue"),
    IndexSpec(INSTANCES, [("terminal", 1), ("due_at", 1)], name="open_by_due"),
]


class ReviewRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.instances: AsyncCollection[Document] = db[INSTANCES]
        self.store = VersionedStore(self.instances)
        self._codes: AsyncCollection[Document] = db[CODES]
        self._definitions: AsyncCollection[Document] = db[DEFINITIONS]

    # --- workflow definitions -----------------------------------------------------------------------------------

    async def save_definitions(self, definitions: Sequence[WorkflowDefinition]) -> None:
        for definition in definitions:
            # Kept as JSON text: event names such as `dossier.supplemented` are keys, and keys cannot hold dots.
            body = definition.model_dump_json(by_alias=True)
            document = {"_id": definition.id, "definition": body, "loaded_at": bson_now()}
            await upsert(partial(self._definitions.replace_one, {"_id": definition.id}, document, upsert=True))

    async def definitions_of(self, procedure_code: str) -> list[Document]:
        found = [json.loads(d["definition"]) async for d in self._definitions.find({}).sort("_id", 1)]
        return [d for d in found if any(rule["procedure_code"] == procedure_code for rule in d["applies_to"])]

    # --- instances ----------------------------------------------------------------------------------------------

    async def remember_code(self, code: str, dossier_id: str) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._codes.insert_one({"_id": code, "dossier_id": dossier_id})

    async def by_code(self, code: str) -> Document | None:
        entry = await self._codes.find_one({"_id": code})
        return None if entry is None else await self.store.get(entry["dossier_id"])

    async def transact(self, dossier_id: str, decide: Decide) -> tuple[Document | None, bool]:
        return await self.store.transact(dossier_id, decide)

    async def history(self, doc: Document) -> list[Document]:
        return await self.store.history(doc)

    async def open_instances(self) -> list[Document]:
        """Instances not in a terminal state, for the schedulers (with only what they need)."""
        return [d async for d in self.instances.find({"terminal": False}, projection={"outbox": 0})]

    async def open_of_agency(self, agency: str) -> list[Document]:
        """An agency's open dossiers with what the desk's counts need (one read of the agency's queue)."""
        projection = {"actionable_roles": 1, "assignee_id": 1, "due_at": 1, "paused_at": 1, "terminal": 1}
        return [d async for d in self.instances.find({"agency_code": agency, "terminal": False}, projection=projection)]

    async def tasks(self, query: Document, *, skip: int, limit: int) -> tuple[list[Document], int]:
        total = await self.instances.count_documents(query)
        cursor = (
            self.instances.find(query, projection={"outbox": 0, "applied_events": 0})
            .sort([("due_at", 1), ("opened_at", 1), ("_id", 1)])
            .skip(skip)
            .limit(limit)
        )
        return [d async for d in cursor], total


def task_query(
    *,
    agency: str,
    role: str | None,
    assignee: str | None,
    status: int | None,
    overdue: bool | None,
    include_closed: bool,
    now: datetime,
    procedure: str | None = None,
    text: str | None = None,
    channel: str | None = None,
) -> Document:
    query: dict[str, Any] = {"agency_code": agency}
    ands: list[Document] = []
    if procedure is not None:
        query["procedure_code"] = procedure
    if channel is not None:
        query["channel"] = channel
    if text is not None:
        # Part of the code or of the applicant's name, as typed (letters in either case).
        pattern = {"$regex": re.escape(text.strip()), "$options": "i"}
        ands.append({"$or": [{"code": pattern}, {"applicant.name": pattern}]})
    if not include_closed:
        query["terminal"] = False
    if role is not None:
        query["actionable_roles"] = role
    if assignee is not None:
        query["assignee_id"] = assignee
    if status is not None:
        query["status_code"] = status
    if overdue is True:
        query.update(due_at={"$lt": now}, paused_at=None, terminal=False)
    elif overdue is False:
        ands.append({"$or": [{"due_at": None}, {"due_at": {"$gte": now}}, {"paused_at": {"$ne": None}}]})
    if ands:
        query["$and"] = ands
    return query
