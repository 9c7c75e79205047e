"""The only module that talks to intake's dossier collection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from hoso.events import Envelope
from hoso.idempotency import apply_once, dotted
from hoso.mongo import Document, IndexSpec
from hoso.outbox import with_outbox
from hoso.store import Guard, NumbersExhausted, Order, Store
from intake.domain.codes import MAX_SEQUENCE, DossierCodes, SequenceExhausted

DOSSIERS = "dossiers"
COUNTERS = "dossier_counters"
CODE_SLOTS = "dossier_code_slots"

INDEXES = [
    IndexSpec(DOSSIERS, [("code", 1)], name="code_unique", unique=True),
    IndexSpec(DOSSIERS, [("agency_code", 1), ("day", 1), ("sequence", 1)], name="agency_day_seq", unique=True),
    IndexSpec(DOSSIERS, [("applicant_id", 1), ("idempotency_key", 1)], name="applicant_idem", unique=True),
    IndexSpec(DOSSIERS, [("applicant_id", 1), ("submitted_at", -1)], name="applicant_recent"),
    IndexSpec(DOSSIERS, [("fee.reference", 1)], name="fee_reference"),
]


def _scope(agency_code: str, day: date) -> str:
    return f"{agency_code}|{day.isoformat()}"


class CodeTaken(Exception):
    """Another dossier took this code first; the caller picks the next number."""


class SubmittedBefore(Exception):
    """A dossier of this submission (its id, or its applicant's Idempotency-Key) exists already."""


NEWEST_FIRST = Order([("submitted_at", -1)])


class DossierRepository:
    def __init__(self, store: Store, codes: DossierCodes | None = None) -> None:
        self.collection = store.table(DOSSIERS)
        self.codes = codes or DossierCodes()
        # Each agency's daily numbers (Circular 01/2018/TT-VPCP Art. 19).
        self.numbers = store.numbering(counters=COUNTERS, claims=CODE_SLOTS, at_most=MAX_SEQUENCE)

    async def by_id(self, dossier_id: str) -> Document | None:
        return await self.collection.get(dossier_id)

    async def by_idempotency_key(self, applicant_id: str, key: str) -> Document | None:
        return await self.collection.find_one({"applicant_id": applicant_id, "idempotency_key": key})

    async def by_code(self, code: str) -> Document | None:
        """The dossier with this code: through its number's claim (a look-up by `_id`), else by searching."""
        number = self.codes.numbered_by(code)
        if number is not None:
            agency, day, sequence = number
            owner = await self.numbers.owner(_scope(agency, day), sequence)
            if owner is not None:
                doc = await self.by_id(owner)
                if doc is not None and doc["code"] == code:
                    return doc
        # A number given back and taken again names another dossier than its claim does (or the code is unknown).
        return await self.collection.find_one({"code": code})

    async def by_fee_reference(self, reference: str) -> Document | None:
        return await self.collection.find_one({"fee.reference": reference})

    async def reserve_sequence(self, agency_code: str, day: date, dossier_id: str) -> int:
        """The next dossier number of the agency's day: a released number first, else a new one."""
        try:
            return await self.numbers.claim(_scope(agency_code, day), dossier_id)
        except NumbersExhausted:
            raise SequenceExhausted(f"{agency_code} has used all {MAX_SEQUENCE} numbers of {day.isoformat()}") from None

    async def release_sequence(self, agency_code: str, day: date, sequence: int) -> None:
        """Give back a number whose dossier was not created, so the next submission takes it (no gap)."""
        await self.numbers.give_back(_scope(agency_code, day), sequence)

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
