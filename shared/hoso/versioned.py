"""Documents changed by numbered, immutable steps: one winner per version, with any number of writers.

FerretDB v1 runs an update as a read followed by a write, so a conditional update cannot serialise two writers of
one document; inserting a document with a given `_id` can. Each change of a versioned document is therefore first
inserted as step `<id>#<version>` (the insert that succeeds owns that version; the others re-read and decide again)
and then written to the document, which is a cache of its steps: whoever reads a document also applies the steps
written after it, so a writer that died between the two writes loses nothing. On MongoDB the same code runs
unchanged.

A step carries the fields it sets, the events it appends to the document's outbox (relayed by `hoso.outbox`), the
id of the incoming event it applies (so a redelivery is recognised) and a record for the document's history.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from hoso.errors import TransientError
from hoso.mongo import Document, bson_now, find_by_ids, id_lookups_only, write_many
from hoso.outbox import outbox_entries
from hoso.steps import APPLIED_FIELD, HISTORY_FIELD, Step


class VersionConflict(TransientError):
    """Every attempt met a newer version written by someone else; the caller may try again later."""


def step_id(doc_id: str, version: int) -> str:
    return f"{doc_id}#{version:06d}"


def advance(doc: Document | None, step: Document) -> Document:
    """The document after `step` (deterministic: every reader that applies a step writes the same document)."""
    base: Document = (
        dict(doc)
        if doc is not None
        else {"_id": step["doc_id"], "outbox": [], "outbox_rev": 0, APPLIED_FIELD: [], HISTORY_FIELD: []}
    )
    base.update(step["fields"])
    base["version"] = step["version"]
    if step["events"]:
        base["outbox"] = [*base.get("outbox", []), *step["events"]]
        base["outbox_rev"] = base.get("outbox_rev", 0) + len(step["events"])
        base["outbox_at"] = step["at"]
    if step.get("applies_event"):
        base[APPLIED_FIELD] = [*base.get(APPLIED_FIELD, []), step["applies_event"]]
    if step.get("record") and HISTORY_FIELD in base:
        entry = {"version": step["version"], "at": step["at"], "record": step["record"]}
        base[HISTORY_FIELD] = [*base[HISTORY_FIELD], entry]
    return base


def _stored(doc_id: str, version: int, step: Step) -> Document:
    return {
        "_id": step_id(doc_id, version),
        "doc_id": doc_id,
        "version": version,
        "at": bson_now(),
        "fields": step.fields,
        "events": outbox_entries(step.events),
        "applies_event": step.applies_event,
        "record": step.record,
    }


Decide = Callable[[Document | None], Step | None]


class Unread(enum.Enum):
    UNREAD = enum.auto()


class VersionedStore:
    """A collection of versioned documents and the collection of their steps (`<collection>_steps`)."""

    def __init__(self, collection: AsyncCollection[Document], *, attempts: int = 50) -> None:
        self.collection = collection
        self.steps: AsyncCollection[Document] = collection.database[f"{collection.name}_steps"]
        self._attempts = attempts
        # Told the id of each document a step added events to (the outbox relay publishes them at once).
        self.on_events: Callable[[str], None] | None = None

    async def get(self, doc_id: str) -> Document | None:
        """The current document, with any step that its cached copy has not caught up with applied."""
        return await self._catch_up(doc_id, await self.collection.find_one({"_id": doc_id}))

    async def _catch_up(self, doc_id: str, doc: Document | None) -> Document | None:
        version = doc["version"] if doc is not None else 0
        behind = False
        while (step := await self.steps.find_one({"_id": step_id(doc_id, version + 1)})) is not None:
            doc = advance(doc, step)
            version += 1
            behind = True
        if behind and doc is not None:
            await self._write(doc)
        return doc

    async def repair(self, docs: Sequence[Document]) -> int:
        """Bring cached documents up to their steps (a writer may have died between its two writes).

        `docs` need only `_id` and `version` (a projection will do): a document behind is read again whole.
        """
        if not docs:
            return 0
        wanted = {step_id(d["_id"], d["version"] + 1): d["_id"] for d in docs}
        behind = [wanted[s] for s in await find_by_ids(self.steps, wanted, projection={"_id": 1})]
        for doc_id in behind:
            await self.get(doc_id)
        return len(behind)

    async def _write(self, doc: Document) -> None:
        # Never replace a newer version; the upsert creates the document on its first step. A duplicate key means
        # the document exists at this version or later: someone else wrote it.
        with contextlib.suppress(DuplicateKeyError):
            if doc["version"] == 1:
                await self.collection.insert_one(doc)
                return
            if not id_lookups_only():
                await self.collection.replace_one(
                    {"_id": doc["_id"], "version": {"$lt": doc["version"]}}, doc, upsert=True
                )
                return
            # FerretDB v1: the same check on a read by `_id` (a filter beyond `_id` reads the whole collection). A
            # newer version written in between is overwritten by this older one, and restored by the next `get`.
            stored = await self.collection.find_one({"_id": doc["_id"]}, projection={"version": 1})
            if stored is None or stored["version"] < doc["version"]:
                await self.collection.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def commit(self, doc_id: str, current: Document | None, step: Step) -> Document:
        """Write `step` as the version after `current`; VersionConflict when that version is taken."""
        version = (current["version"] if current is not None else 0) + 1
        stored = _stored(doc_id, version, step)
        try:
            await self.steps.insert_one(stored)
        except DuplicateKeyError as exc:
            raise VersionConflict(f"{doc_id} version {version} was written by someone else") from exc
        doc = advance(current, stored)
        await self._write(doc)
        if step.events and self.on_events is not None:
            self.on_events(doc_id)
        return doc

    async def create_many(self, steps: Mapping[str, Step]) -> list[str]:
        """Write each step as the first version of its document, all in two inserts (the steps, then the documents);
        returns the ids of the documents created now. One that has a first version already is left as it is (its
        document brought up to its steps, in case the writer of that version died before writing it)."""
        stored = [_stored(doc_id, 1, step) for doc_id, step in steps.items()]
        refused = set(await write_many(self.steps, "insert", stored, ordered=False))
        won = [s for n, s in enumerate(stored) if n not in refused]
        # A document refused here exists already, at this version or a later one.
        await write_many(self.collection, "insert", [advance(None, s) for s in won], ordered=False)
        taken = [stored[n]["doc_id"] for n in sorted(refused)]
        cached = await find_by_ids(self.collection, taken, projection={"_id": 1})
        for doc_id in taken:
            if doc_id not in cached:
                await self.get(doc_id)
        if self.on_events is not None:
            for s in won:
                if s["events"]:
                    self.on_events(s["doc_id"])
        return [s["doc_id"] for s in won]

    async def transact(
        self, doc_id: str, decide: Decide, *, cached: Document | Literal[Unread.UNREAD] | None = Unread.UNREAD
    ) -> tuple[Document | None, bool]:
        """Read the document, let `decide` choose a step (or None: nothing to do), write it; again on conflict.

        Returns the document after the step and whether a step was written. `decide` may raise to refuse. `cached`:
        the document as the caller has just read or written it (it is then not read again).

        A step is first decided on the cached copy alone: if that copy is behind its steps, the version after it is
        taken and the insert says so (a conflict), so only doing nothing and refusing need the steps looked at first.
        `decide` may therefore be called more than once and must only look at the document it is given.
        """
        current = await self.collection.find_one({"_id": doc_id}) if cached is Unread.UNREAD else cached
        caught_up = False
        for _ in range(self._attempts):
            step: Step | None = None
            if not caught_up:
                with contextlib.suppress(Exception):
                    step = decide(current)
                if step is None:
                    current, caught_up = await self._catch_up(doc_id, current), True
            if caught_up:
                step = decide(current)
            if step is None:
                return current, False
            try:
                return await self.commit(doc_id, current, step), True
            except VersionConflict:
                current, caught_up = await self.get(doc_id), True
        raise VersionConflict(f"{doc_id}: {self._attempts} attempts met newer versions")

    async def history(self, doc: Document) -> list[Document]:
        """The steps of `doc` that have a history record, in order: `version`, `at` and `record` of each."""
        return list(doc.get(HISTORY_FIELD, []))
