"""The only module that talks to review's MongoDB database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hoso.mongo import Document, IndexSpec, bson_now
from hoso.store import Copied, Filter, Order, Store
from hoso.versioned import Decide
from review.domain.definition import WorkflowDefinition

INSTANCES = "instances"
CODES = "codes"
DEFINITIONS = "workflow_definitions"

# What a queue's rows need of an instance.
TASK_PROJECTION = {"outbox": 0, "applied_events": 0, "history": 0}

OPEN = Filter({"terminal": False}, lambda doc: not doc["terminal"])


def open_of(agency: str) -> Filter:
    """An agency's open instances (what the desk's queues are cut from)."""
    return Filter(
        {"agency_code": agency, "terminal": False},
        lambda doc: doc.get("agency_code") == agency and not doc["terminal"],
        partition=agency,
        kept=True,
    )


def due_first(doc: Document) -> tuple[Any, ...]:
    """The queue's order as the database sorts it: no due time first, then by due time, opening time and id."""
    due, opened = doc.get("due_at"), doc.get("opened_at")
    return (due is not None, due or 0, opened is not None, opened or 0, doc["_id"])


DUE_FIRST = Order([("due_at", 1), ("opened_at", 1), ("_id", 1)], due_first)
BY_ID = Order([("_id", 1)], lambda doc: doc["_id"])

INDEXES = [
    IndexSpec(INSTANCES, [("agency_code", 1), ("terminal", 1), ("due_at", 1)], name="agency_queue"),
    IndexSpec(INSTANCES, [("terminal", 1), ("due_at", 1)], name="open_by_due"),
]


class ReviewRepository:
    def __init__(self, store: Store, *, full_read_seconds: float = 300.0, at_most: int = 500) -> None:
        # The desk pages an agency's open instances far more often than they change.
        copied = Copied("agency_code", OPEN, TASK_PROJECTION, full_read_seconds=full_read_seconds, at_most=at_most)
        self.store = store.versioned(INSTANCES, copied=copied)
        self.instances = self.store.table
        self._codes = store.table(CODES)
        self._definitions = store.table(DEFINITIONS)

    # --- workflow definitions -----------------------------------------------------------------------------------

    async def save_definitions(self, definitions: Sequence[WorkflowDefinition]) -> None:
        for definition in definitions:
            # Kept as JSON text: event names such as `dossier.supplemented` are keys, and keys cannot hold dots.
            body = definition.model_dump_json(by_alias=True)
            await self._definitions.put({"_id": definition.id, "definition": body, "loaded_at": bson_now()})

    async def definitions_of(self, procedure_code: str) -> list[Document]:
        found = [json.loads(d["definition"]) for d in await self._definitions.find({}, order=BY_ID)]
        return [d for d in found if any(rule["procedure_code"] == procedure_code for rule in d["applies_to"])]

    # --- instances ----------------------------------------------------------------------------------------------

    async def remember_code(self, code: str, dossier_id: str) -> None:
        await self._codes.insert({"_id": code, "dossier_id": dossier_id})

    async def by_code(self, code: str) -> Document | None:
        entry = await self._codes.get(code)
        return None if entry is None else await self.store.get(entry["dossier_id"])

    async def transact(self, dossier_id: str, decide: Decide) -> tuple[Document | None, bool]:
        return await self.store.transact(dossier_id, decide)

    async def history(self, doc: Document) -> list[Document]:
        return await self.store.history(doc)

    async def open_instances(self) -> list[Document]:
        """Instances not in a terminal state, for the schedulers (with only what they need)."""
        return await self.instances.find(OPEN, {"outbox": 0})

    async def open_of_agency(self, agency: str) -> list[Document]:
        """An agency's open dossiers with what the desk's counts need (one read of the agency's queue)."""
        return await self.instances.find(open_of(agency), TASK_PROJECTION)

    async def tasks(self, where: Filter, *, skip: int, limit: int) -> tuple[list[Document], int]:
        """One page of a queue, due first, and how many instances `where` holds in all."""
        return await self.instances.page(where, TASK_PROJECTION, order=DUE_FIRST, skip=skip, limit=limit)
