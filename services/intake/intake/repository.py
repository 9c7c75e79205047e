"""The only module that talks to intake's dossier collection."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from hoso.events import Envelope
from hoso.idempotency import apply_once, dotted
from hoso.mongo import Document, IndexSpec, bson_now
from hoso.outbox import with_outbox
from hoso.store import Guard, Order, Store
from intake.domain.codes import MAX_SEQUENCE, SequenceExhausted, parse_dossier_code

DOSSIERS = "dossiers"
COUNTERS = "dossier_counters"
CODE_SLOTS = "dossier_code_slots"
# Agency-days whose claims lock a process keeps (the most recently used).
KEPT_DAYS = 64

INDEXES = [
    IndexSpec(DOSSIERS, [("code", 1)], name="code_unique", unique=True),
    IndexSpec(DOSSIERS, [("agency_code", 1), ("day", 1), ("sequence", 1)], name="agency_day_seq", unique=True),
    IndexSpec(DOSSIERS, [("applicant_id", 1), ("idempotency_key", 1)], name="applicant_idem", unique=True),
    IndexSpec(DOSSIERS, [("applicant_id", 1), ("submitted_at", -1)], name="applicant_recent"),
    IndexSpec(DOSSIERS, [("fee.reference", 1)], name="fee_reference"),
]


def _slot_id(agency_day: str, sequence: int) -> str:
    return f"{agency_day}|{sequence}"


def _slot_of(code: str) -> str | None:
    parsed = parse_dossier_code(code)
    if parsed is None:
        return None
    agency, day, sequence = parsed
    try:
        issued = datetime.strptime(day, "%y%m%d").date()
    except ValueError:
        return None
    return _slot_id(f"{agency}|{issued.isoformat()}", sequence)


class CodeTaken(Exception):
    """Another dossier took this code first; the caller picks the next number."""


class SubmittedBefore(Exception):
    """A dossier of this submission (its id, or its applicant's Idempotency-Key) exists already."""


NEWEST_FIRST = Order([("submitted_at", -1)])


def _counter_before(sequence: int) -> Guard:
    return Guard(
        {"sequence": {"$not": {"$gte": sequence}}}, lambda doc: doc is None or doc.get("sequence", 0) < sequence
    )


class DossierRepository:
    def __init__(self, store: Store) -> None:
        self.collection = store.table(DOSSIERS)
        self.counters = store.table(COUNTERS)
        self.slots = store.table(CODE_SLOTS)
        # Per agency-day: the lock of this process's claims and the last number it claimed (the newest few kept).
        self._claiming: OrderedDict[str, asyncio.Lock] = OrderedDict()
        self._claimed: dict[str, int] = {}

    async def by_id(self, dossier_id: str) -> Document | None:
        return await self.collection.get(dossier_id)

    async def by_idempotency_key(self, applicant_id: str, key: str) -> Document | None:
        return await self.collection.find_one({"applicant_id": applicant_id, "idempotency_key": key})

    async def by_code(self, code: str) -> Document | None:
        """The dossier with this code: through its number's slot (look-ups by `_id`), else by searching."""
        slot_id = _slot_of(code)
        if slot_id is not None:
            slot = await self.slots.get(slot_id)
            if slot is not None and slot.get("dossier_id") is not None:
                doc = await self.by_id(slot["dossier_id"])
                if doc is not None and doc["code"] == code:
                    return doc
        # A number given back and taken again names another dossier than its slot does (or the code is unknown).
        return await self.collection.find_one({"code": code})

    async def by_fee_reference(self, reference: str) -> Document | None:
        return await self.collection.find_one({"fee.reference": reference})

    async def reserve_sequence(self, agency_code: str, day: date, dossier_id: str) -> int:
        """The next dossier number of the agency's day: a released number first, else a new one.

        A new number is claimed by inserting its slot (`<agency>|<day>|<n>`): an insert by `_id` is atomic on every
        MongoDB-compatible server, where an `$inc` is not on FerretDB v1. The counter only says where to start
        looking; it moves forward after each claim.
        """
        key = f"{agency_code}|{day.isoformat()}"
        released = await self.counters.take({"_id": key, "released.0": {"$exists": True}}, {"$pop": {"released": -1}})
        if released is not None:
            return int(released["released"][0])
        # Claims of one agency-day are made one at a time in this process, each starting after the last one, so
        # concurrent submissions do not walk over each other's slots; other processes' claims cost a retry each.
        async with self._lock_of(key):
            sequence = self._claimed.get(key, 0) + 1
            if sequence == 1:
                counter = await self.counters.get(key, projection={"sequence": 1})
                sequence = int((counter or {}).get("sequence", 0)) + 1
            while True:
                if sequence > MAX_SEQUENCE:
                    raise SequenceExhausted(f"{agency_code} has used all {MAX_SEQUENCE} numbers of {day.isoformat()}")
                slot = {"_id": _slot_id(key, sequence), "dossier_id": dossier_id, "at": bson_now()}
                if await self.slots.insert(slot):
                    break
                sequence += 1
            self._claimed[key] = sequence
        with contextlib.suppress(DuplicateKeyError):  # the counter is at or past this number already
            await self.counters.update_if(key, _counter_before(sequence), {"$set": {"sequence": sequence}}, upsert=True)
        return sequence

    def _lock_of(self, key: str) -> asyncio.Lock:
        """The claims lock of an agency-day; only the most recently used `KEPT_DAYS` are kept (with their last
        number), so a long-running process holds a bounded number of them."""
        lock = self._claiming.pop(key, None) or asyncio.Lock()
        self._claiming[key] = lock
        surplus = max(0, len(self._claiming) - KEPT_DAYS)
        for old in [k for k, held in self._claiming.items() if not held.locked()][:surplus]:
            del self._claiming[old]
            self._claimed.pop(old, None)
        return lock

    async def release_sequence(self, agency_code: str, day: date, sequence: int) -> None:
        """Give back a number whose dossier was not created, so the next submission takes it (no gap)."""
        await self.counters.update(f"{agency_code}|{day.isoformat()}", {"$push": {"released": sequence}})

    async def insert(self, document: Document) -> None:
        """Insert a new dossier; CodeTaken when its number was taken, SubmittedBefore for a reused key."""
        if await self.collection.insert(document):
            return
        if await self.by_id(document["_id"]) is not None:
            raise SubmittedBefore(document["_id"])  # the same submission (its id derives from the Idempotency-Key)
        if await self.by_idempotency_key(document["applicant_id"], document["idempotency_key"]) is not None:
            raise SubmittedBefore(document["_id"])
        raise CodeTaken(document["code"])

    async def list_for_applicant(
        self, applicant_id: str, *, status: int | None, skip: int, limit: int
    ) -> tuple[list[Document], int]:
        query: Document = {"applicant_id": applicant_id}
        if status is not None:
            query["status_code"] = status
        return await self.collection.page(query, order=NEWEST_FIRST, skip=skip, limit=limit)

    async def act(
        self,
        dossier_id: str,
        *,
        allowed_statuses: Sequence[int],
        update: Document,
        events: Sequence[tuple[str, Envelope]],
        where: Document | None = None,
    ) -> bool:
        """Apply an applicant's action and its events in one update, only if the status still allows it."""
        query: Document = {"status_code": {"$in": list(allowed_statuses)}, **(where or {})}
        facts = dict(where or {})

        def holds(doc: Document | None) -> bool:
            return (
                doc is not None
                and doc.get("status_code") in allowed_statuses
                and all(dotted(doc, k) == v for k, v in facts.items())
            )

        return await self.collection.update_if(dossier_id, Guard(query, holds), with_outbox(update, events))

    async def apply_event(
        self, dossier_id: str, event_id: str, update: Document, *, unchanged: Mapping[str, Any] | None = None
    ) -> bool:
        """Intake's view of the dossier from another service's event; each event applies once, and with `unchanged`
        only while those fields (dotted paths) still hold the values read."""
        return await apply_once(
            self.collection, doc_id=dossier_id, event_id=event_id, update=update, unchanged=unchanged
        )
