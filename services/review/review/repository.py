"""The only module that talks to review's MongoDB database."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hoso.changes import ChangeLog
from hoso.logs import get_logger
from hoso.mongo import Document, IndexSpec, bson_now, find_by_ids, id_lookups_only, upsert
from hoso.versioned import Decide, VersionedStore
from review.domain.definition import WorkflowDefinition

INSTANCES = "instances"
CODES = "codes"
DEFINITIONS = "workflow_definitions"
CHANGES = "instance_changes"

log = get_logger(__name__)

# What a queue's rows need of an instance.
TASK_PROJECTION = {"outbox": 0, "applied_events": 0, "history": 0}

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
        # On FerretDB v1, which instances of each agency changed (what the desk's in-memory queues read again).
        self.changes = ChangeLog(db[CHANGES])

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
        doc, written = await self.store.transact(dossier_id, decide)
        if written and doc is not None and id_lookups_only():
            try:
                await self.changes.append(doc["agency_code"], doc["_id"])
            except Exception:
                # The step stands; queues copied in memory see it at their next whole read.
                log.warning("review.change_not_logged", dossier_id=doc["_id"], exc_info=True)
        return doc, written

    async def history(self, doc: Document) -> list[Document]:
        return await self.store.history(doc)

    async def open_instances(self) -> list[Document]:
        """Instances not in a terminal state, for the schedulers (with only what they need)."""
        return [d async for d in self.instances.find({"terminal": False}, projection={"outbox": 0})]

    async def open_of_agency(self, agency: str) -> list[Document]:
        """An agency's open dossiers with what the desk's counts need (one read of the agency's queue)."""
        projection = {"actionable_roles": 1, "assignee_id": 1, "due_at": 1, "paused_at": 1, "terminal": 1}
        return [d async for d in self.instances.find({"agency_code": agency, "terminal": False}, projection=projection)]

    async def open_tasks_of_agency(self, agency: str) -> list[Document]:
        """An agency's open dossiers with what a queue's rows need."""
        query = {"agency_code": agency, "terminal": False}
        return [d async for d in self.instances.find(query, projection=TASK_PROJECTION)]

    async def task_rows(self, dossier_ids: Sequence[str]) -> dict[str, Document]:
        """These instances (by id) with what a queue's rows need."""
        return await find_by_ids(self.instances, dossier_ids, projection=TASK_PROJECTION)

    async def tasks(self, query: Document, *, skip: int, limit: int) -> tuple[list[Document], int]:
        total = await self.instances.count_documents(query)
        cursor = (
            self.instances.find(query, projection=TASK_PROJECTION)
            .sort([("due_at", 1), ("opened_at", 1), ("_id", 1)])
            .skip(skip)
            .limit(limit)
        )
        return [d async for d in cursor], total
