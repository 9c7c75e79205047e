"""The only module that talks to records' MongoDB database."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from hoso.events import Envelope
from hoso.idempotency import apply_once, once_guard, once_update
from hoso.mongo import Document, IndexSpec, bson_now
from hoso.outbox import initial_outbox, outbox_indexes, with_outbox
from hoso.store import Guard, Order, Store, Write
from records.domain.chain import GENESIS, ChainEntry
from records.domain.stats import CLOCK

TIMELINE = "timeline"
DOSSIERS = "dossiers"
CHAINS = "chains"
CODES = "codes"
ARCHIVES = "archives"
PACKAGES = "archive_packages"
RATINGS = "ratings"
PERSONAL = "personal_data"

INDEXES = [
    IndexSpec(TIMELINE, [("dossier_id", 1), ("sequence", 1)], name="dossier_sequence", unique=True),
    IndexSpec(TIMELINE, [("dossier_code", 1), ("sequence", 1)], name="code_sequence"),
    IndexSpec(DOSSIERS, [("code", 1)], name="code_unique", unique=True),
    IndexSpec(DOSSIERS, [("agency_code", 1), ("status_code", 1)], name="agency_status"),
    IndexSpec(DOSSIERS, [("agency_code", 1), ("received_at", 1)], name="agency_received"),
    IndexSpec(DOSSIERS, [("applicant_id", 1)], name="applicant"),
    IndexSpec(ARCHIVES, [("state", 1), ("next_attempt_at", 1)], name="due"),
    *outbox_indexes(PERSONAL),
]


def _summary_update(fields: Document, history: Document) -> Document:
    # `recorded_at`: when records first held the dossier.
    return {"$set": fields, "$push": {"status_history": history}, "$setOnInsert": {"recorded_at": bson_now()}}


def _head_update(sequence: int, head: str, entry_ids: list[str]) -> Document:
    return {"$set": {"sequence": sequence, "head": head}, "$addToSet": {"entries": {"$each": entry_ids}}}


def _behind(sequence: int) -> Guard:
    """Holds for a chain whose head is before `sequence` (or that has none yet): heads never move back."""
    return Guard({"sequence": {"$lt": sequence}}, lambda doc: doc is None or doc["sequence"] < sequence)


NEWEST_FIRST = Order([("submitted_at", -1), ("code", 1)])


class SequenceTaken(Exception):
    """Another writer appended to this dossier's chain first."""


def entry_of(doc: Document) -> ChainEntry:
    return ChainEntry(
        sequence=doc["sequence"],
        canonical_event=doc["event"].encode(),
        event_hash=doc["event_hash"],
        previous_hash=doc["previous_hash"],
        hash=doc["hash"],
    )


class RecordsRepository:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.timeline = store.table(TIMELINE)
        self.dossiers = store.table(DOSSIERS)
        # A dossier's chain: its last entry (sequence, head) and the ids of its entries, so that its timeline is
        # read by `_id`.
        self.chains = store.table(CHAINS)
        # Dossier code -> dossier id, written before a dossier's first entry.
        self.codes = store.table(CODES)
        self.archives = store.versioned(ARCHIVES)
        self.packages = store.table(PACKAGES)
        # The applicants' ratings of the service, one per dossier (`_id`: the dossier's id).
        self.ratings = store.table(RATINGS)
        # A dossier's personal data and the salt of its digests in the chain (`_id`: the dossier's id), erasable.
        self.personal = store.table(PERSONAL)

    async def has_entry(self, event_id: str) -> bool:
        return await self.timeline.get(event_id, projection={"_id": 1}) is not None

    async def chain_head(self, dossier_id: str) -> tuple[int, str]:
        """(sequence, hash) of the dossier's last recorded entry, read by primary key; (0, GENESIS) when none."""
        doc = await self.chains.get(dossier_id)
        return (doc["sequence"], doc["head"]) if doc else (0, GENESIS)

    async def chain_heads(self, dossier_ids: list[str]) -> dict[str, tuple[int, str]]:
        """(sequence, hash) of each dossier's last recorded entry, for those that have one."""
        found = await self.chains.get_many(dossier_ids)
        return {doc_id: (doc["sequence"], doc["head"]) for doc_id, doc in found.items()}

    async def remember_codes(self, codes: dict[str, str]) -> None:
        """Note the dossier id of each code (code -> id); one noted already is left as it is."""
        await self.codes.insert_many([{"_id": c, "dossier_id": d} for c, d in codes.items()], ordered=False)

    async def dossier_id_of(self, code: str) -> str | None:
        found = await self.codes.get(code)
        return str(found["dossier_id"]) if found is not None else None

    async def advance_heads(self, heads: dict[str, tuple[int, str, list[str]]]) -> None:
        """`advance_head` for several dossiers in one round trip: (sequence, hash, ids of the entries up to it that
        are new); a duplicate key means that head is already there."""
        writes = [Write(d, _head_update(seq, h, ids), _behind(seq), upsert=True) for d, (seq, h, ids) in heads.items()]
        await self.chains.update_many_if(writes, ordered=False)

    async def append_many(self, entries: list[Document]) -> int:
        """Insert entries in order until one is refused (a redelivered event, another writer); returns how many."""
        refused = await self.timeline.insert_many(entries, ordered=True)
        return refused[0] if refused else len(entries)

    async def advance_head(self, dossier_id: str, sequence: int, head: str, entry_id: str) -> None:
        """Move the head forward to `sequence` (never back), the entry `entry_id`."""
        # A duplicate key means the head is already at or past `sequence`.
        with contextlib.suppress(DuplicateKeyError):
            await self.chains.update_if(
                dossier_id, _behind(sequence), _head_update(sequence, head, [entry_id]), upsert=True
            )

    async def entry(self, entry_id: str) -> Document | None:
        return await self.timeline.get(entry_id)

    async def entry_at(self, dossier_id: str, sequence: int) -> Document | None:
        return await self.timeline.find_one({"dossier_id": dossier_id, "sequence": sequence})

    async def append(self, entry: Document) -> bool:
        """Append one timeline entry; False when this event is there already, SequenceTaken on a race."""
        if await self.timeline.insert(entry):
            return True
        if await self.has_entry(entry["_id"]):
            return False
        raise SequenceTaken(entry["dossier_id"])

    async def timeline_of(self, dossier_code: str) -> list[Document]:
        dossier_id = await self.dossier_id_of(dossier_code)
        if dossier_id is None:
            return []
        return await self.timeline_up_to(dossier_id, None)

    async def timeline_up_to(self, dossier_id: str, sequence: int | None) -> list[Document]:
        """The dossier's entries in order (up to `sequence`), looked up by `_id` through its chain."""
        chain = await self.chains.get(dossier_id)
        found = await self.timeline.get_many((chain or {}).get("entries", []))
        entries = sorted(found.values(), key=lambda e: int(e["sequence"]))
        return [e for e in entries if sequence is None or e["sequence"] <= sequence]

    async def dossier_by_code(self, code: str) -> Document | None:
        dossier_id = await self.dossier_id_of(code)
        return await self.dossier(dossier_id) if dossier_id is not None else None

    async def update_summary(self, dossier_id: str, event_id: str, fields: Document, history: Document) -> bool:
        """Set the summary's fields and note the status the event led to, once per event."""
        update = _summary_update(fields, history)
        return await apply_once(self.dossiers, doc_id=dossier_id, event_id=event_id, update=update, upsert=True)

    async def update_summaries(self, updates: list[tuple[str, str, Document, Document]]) -> None:
        """`update_summary` for (dossier id, event id, fields, history) in order, in one round trip while none of them
        was applied before; from the first that was, one by one."""
        writes = [
            Write(
                dossier_id, once_update(_summary_update(fields, history), event_id), once_guard(event_id), upsert=True
            )
            for dossier_id, event_id, fields, history in updates
        ]
        refused = await self.dossiers.update_many_if(writes, ordered=True)
        for update in updates[refused[0] :] if refused else []:
            await self.update_summary(*update)

    async def dossier(self, dossier_id: str) -> Document | None:
        return await self.dossiers.get(dossier_id)

    # --- personal data --------------------------------------------------------------------------------------------

    async def keep_personal(self, dossier_id: str, dossier_code: str, values: dict[str, str], salt: str) -> str | None:
        """Keep a dossier's personal values with `salt`, once; the salt its digests are made with (the one kept
        first), or None once they were erased (nothing personal is kept again after an erasure)."""
        # Paths hold dots, which may not name a key: the values are kept as path/value pairs.
        pairs = [{"path": path, "value": value} for path, value in sorted(values.items())]
        document = {"_id": dossier_id, "dossier_code": dossier_code, "salt": salt, "values": pairs}
        if await self.personal.insert({**document, "kept_at": bson_now(), "erased_at": None, **initial_outbox(())}):
            return salt
        kept = await self.personal.get(dossier_id, projection={"salt": 1})
        assert kept is not None
        return kept.get("salt")

    async def personal_data(self, dossier_id: str) -> Document | None:
        return await self.personal.get(dossier_id)

    async def contact_of(self, dossier_id: str) -> dict[str, str | None]:
        """The applicant's e-mail, phone and address while they are kept (nothing once erased)."""
        kept = await self.personal.get(dossier_id, projection={"values": 1})
        values = {pair["path"]: pair["value"] for pair in (kept or {}).get("values") or []}
        return {
            "email": values.get("applicant.email"),
            "phone": values.get("applicant.phone"),
            "address": values.get("applicant.address"),
        }

    async def erase_personal(
        self, dossier_id: str, erasure: Document, summary: Document, events: Sequence[tuple[str, Envelope]]
    ) -> None:
        """Erase a dossier's personal values and their salt (a record of the erasure stays in their place), with the
        event that says so (the outbox publishes it), then what the summary repeats of them (`summary`)."""
        update = with_outbox({"$set": {"values": None, "salt": None, **erasure}}, events)

        async def erase() -> None:
            await self.personal.update(dossier_id, update, upsert=True)
            if summary:
                await self.dossiers.update(dossier_id, {"$set": summary})

        # One fact in two documents: where the server has transactions, both or neither; elsewhere two writes, the
        # erasure's own (with its event) first.
        await self._store.together(erase)

    # --- search and statistics ------------------------------------------------------------------------------------

    async def search(self, query: Document, *, skip: int, limit: int) -> tuple[list[Document], int]:
        projection = {"status_history": 0, "applied_events": 0, "components": 0}
        return await self.dossiers.page(query, projection, order=NEWEST_FIRST, skip=skip, limit=limit)

    async def for_statistics(self, query: Document) -> list[Document]:
        fields = (
            "agency_code", "procedure_code", "channel", "received_at", "finished_at", "due_at", "promised_at",
            "outcome", "status_history", "digitised", "fee_paid_at", "fee_paid_online", "result_electronic",
        )  # fmt: skip
        return await self.dossiers.find(query, dict.fromkeys(fields, 1))

    # --- ratings --------------------------------------------------------------------------------------------------

    async def add_rating(self, rating: Document) -> bool:
        """Keep a dossier's rating; False when it was rated before (a rating is given once)."""
        return await self.ratings.insert(rating)

    async def rating_of(self, dossier_id: str) -> Document | None:
        return await self.ratings.get(dossier_id)

    async def ratings_between(self, query: Document) -> list[Document]:
        projection = {"agency_code": 1, "procedure_code": 1, "score": 1, "at": 1}
        return await self.ratings.find(query, projection)

    # --- archives -------------------------------------------------------------------------------------------------

    async def due_archives(self, now: datetime) -> list[Document]:
        query: dict[str, Any] = {"state": {"$ne": "exported"}, "next_attempt_at": {"$lte": now}}
        return await self.archives.table.find(query, {"_id": 1, "version": 1})

    async def archive_of(self, dossier_id: str) -> Document | None:
        return await self.archives.get(dossier_id)

    async def package(self, dossier_id: str) -> Document | None:
        return await self.packages.get(dossier_id)

    async def store_package(self, document: Document) -> Document:
        """Keep the package; when another worker stored it first, theirs (built from the same data) is kept."""
        if await self.packages.insert(document):
            return document
        stored = await self.package(document["_id"])
        assert stored is not None
        return stored

    async def status_counts(self, now: datetime) -> tuple[dict[tuple[str, int], int], dict[str, int]]:
        """Dossiers by (agency, status), and open overdue dossiers by agency (for the metrics)."""
        by_status: dict[tuple[str, int], int] = {}
        overdue: dict[str, int] = {}
        projection = {"agency_code": 1, "status_code": 1, "due_at": 1, "finished_at": 1, "clock_paused": 1}
        for doc in await self.dossiers.find({}, projection):
            agency, status = doc.get("agency_code", ""), int(doc.get("status_code", 0))
            by_status[(agency, status)] = by_status.get((agency, status), 0) + 1
            if CLOCK.overdue(doc, now):
                overdue[agency] = overdue.get(agency, 0) + 1
            overdue.setdefault(agency, 0)
        return by_status, overdue
