"""Documents changed by numbered, immutable steps: one winner per version, with any number of writers.

FerretDB v1 runs an update as a read followed by a write, so a conditional update cannot serialise two writers of
one document; inserting a document with a given `_id` can. Each change of a versioned document is therefore first
inserted as step `<id>#<version>` (the insert that succeeds owns that version; the others re-read and decide again)
and then written to the document, which is a cache of its steps: whoever reads a document also applies the steps
written after it, so a writer that died between the two writes loses nothing. On MongoDB the same code runs
unchanged, but MongoDB's adapter keeps versioned documents as `GuardedStore` does instead: each change is one
replacement of the document guarded by the version it was decided on.

A step carries the fields it sets, the events it appends to the document's outbox (relayed by `hoso.outbox`), the
id of the incoming event it applies (so a redelivery is recognised) and a record for the document's history.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Literal

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from hoso.errors import TransientError
from hoso.mongo import Document, bson_now
from hoso.outbox import outbox_entries
from hoso.steps import APPLIED_FIELD, HISTORY_FIELD, Step
from hoso.store import Table, session, write_many


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
    if step.get("history") is not None and HISTORY_FIELD in base:
        base[HISTORY_FIELD] = list(step["history"])
    if step.get("record") and HISTORY_FIELD in base:
        entry = {"version": step["version"], "at": step["at"], "record": step["record"]}
        base[HISTORY_FIELD] = [*base[HISTORY_FIELD], entry]
    return base


def _stored(doc_id: str, version: int, step: Step) -> Document:
    stored = {
        "_id": step_id(doc_id, version),
        "doc_id": doc_id,
        "version": version,
        "at": bson_now(),
        "fields": step.fields,
        "events": outbox_entries(step.events),
        "applies_event": step.applies_event,
        "record": step.record,
    }
    return stored if step.history is None else {**stored, "history": list(step.history)}


Decide = Callable[[Document | None], Step | None]


class Unread(enum.Enum):
    UNREAD = enum.auto()


class Versioned(abc.ABC):
    """A table of versioned documents: read, change by a decided step (again on a conflict), create many at once."""

    def __init__(self, table: Table, *, attempts: int = 50) -> None:
        self.table = table
        self._attempts = attempts
        # Told the id of each document a step added events to (the outbox relay publishes them at once).
        self.on_events: Callable[[str], None] | None = None

    @property
    def collection(self) -> AsyncCollection[Document]:
        return self.table.raw

    @abc.abstractmethod
    async def get(self, doc_id: str) -> Document | None:
        """The current document."""

    @abc.abstractmethod
    async def commit(self, doc_id: str, current: Document | None, step: Step) -> Document:
        """Write `step` as the version after `current`; VersionConflict when that version is taken."""

    @abc.abstractmethod
    async def create_many(self, steps: Mapping[str, Step]) -> list[str]:
        """Write each step as the first version of its document; the ids of the documents created now (one that
        exists already is left as it is)."""

    async def repair(self, docs: Sequence[Document]) -> int:
        """Bring documents up to their versions where a writer died half-way; how many were behind."""
        return 0

    async def _catch_up(self, doc_id: str, doc: Document | None) -> Document | None:
        return doc

    async def delete(self, doc_id: str) -> None:
        await self.table.delete(doc_id)

    async def forget_before(self, at: datetime) -> None:  # noqa: B027 (versions that leave nothing behind)
        """Drop what only served to write versions before `at`."""

    async def rewrite_steps(self, doc_id: str, rewrite: Callable[[Document], Document]) -> int:
        """Rewrite what the steps of `doc_id` written so far hold (`rewrite` gives a step's new content), so that
        data erased from the document is gone from its versions too; how many were rewritten (none where versions
        leave nothing behind)."""
        return 0

    def _told(self, doc_id: str, step: Step) -> None:
        if step.events and self.on_events is not None:
            self.on_events(doc_id)

    async def transact(
        self, doc_id: str, decide: Decide, *, cached: Document | Literal[Unread.UNREAD] | None = Unread.UNREAD
    ) -> tuple[Document | None, bool]:
        """Read the document, let `decide` choose a step (or None: nothing to do), write it; again on conflict.

        Returns the document after the step and whether a step was written. `decide` may raise to refuse. `cached`:
        the document as the caller has just read or written it (it is then not read again).

        A step is first decided on the cached copy alone: if that copy is behind, the version after it is taken and
        the write says so (a conflict), so only doing nothing and refusing need the document brought up to date
        first. `decide` may therefore be called more than once and must only look at the document it is given.
        """
        current = await self.table.get(doc_id) if cached is Unread.UNREAD else cached
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


class GuardedStore(Versioned):
    """Versioned documents on a server whose conditional update is atomic (MongoDB): a change replaces the document
    only while it still has the version the change was decided on."""

    async def get(self, doc_id: str) -> Document | None:
        return await self.table.get(doc_id)

    async def commit(self, doc_id: str, current: Document | None, step: Step) -> Document:
        version = (current["version"] if current is not None else 0) + 1
        doc = advance(current, _stored(doc_id, version, step))
        if version == 1:
            if not await self.table.insert(doc):
                raise VersionConflict(f"{doc_id} was created by someone else")
        else:
            result = await self.table.raw.replace_one({"_id": doc_id, "version": version - 1}, doc, session=session())
            if result.matched_count != 1:
                raise VersionConflict(f"{doc_id} version {version} was written by someone else")
            await (await self.table.store.adapter()).written(self.table, docs=[doc])
        self._told(doc_id, step)
        return doc

    async def create_many(self, steps: Mapping[str, Step]) -> list[str]:
        stored = [_stored(doc_id, 1, step) for doc_id, step in steps.items()]
        refused = set(await self.table.insert_many([advance(None, s) for s in stored], ordered=False))
        won = [s for n, s in enumerate(stored) if n not in refused]
        if self.on_events is not None:
            for s in won:
                if s["events"]:
                    self.on_events(s["doc_id"])
        return [s["doc_id"] for s in won]


class StepStore(Versioned):
    """Versioned documents as numbered steps (`<collection>_steps`), for a server whose conditional update is a read
    then a write (FerretDB v1): the insert of step `<id>#<version>` owns that version, and the document is a cache
    of its steps."""

    def __init__(self, table: Table, *, attempts: int = 50) -> None:
        super().__init__(table, attempts=attempts)
        self.steps: AsyncCollection[Document] = table.raw.database[f"{table.name}_steps"]

    async def get(self, doc_id: str) -> Document | None:
        """The current document, with any step that its cached copy has not caught up with applied."""
        return await self._catch_up(doc_id, await self.table.get(doc_id))

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
        """`docs` need only `_id` and `version` (a projection will do): a document behind is read again whole."""
        if not docs:
            return 0
        wanted = {step_id(d["_id"], d["version"] + 1): d["_id"] for d in docs}
        steps = self.table.store.table(self.steps.name)
        behind = [wanted[s] for s in await steps.get_many(wanted, projection={"_id": 1})]
        for doc_id in behind:
            await self.get(doc_id)
        return len(behind)

    async def _write(self, doc: Document) -> None:
        # Never replace a newer version; the first step creates the document. A refused insert means the document
        # exists at this version or later: someone else wrote it.
        if doc["version"] == 1:
            await self.table.insert(doc)
            return
        with contextlib.suppress(DuplicateKeyError):
            await self.table.replace_if_newer(doc)

    async def commit(self, doc_id: str, current: Document | None, step: Step) -> Document:
        version = (current["version"] if current is not None else 0) + 1
        stored = _stored(doc_id, version, step)
        try:
            await self.steps.insert_one(stored)
        except DuplicateKeyError as exc:
            raise VersionConflict(f"{doc_id} version {version} was written by someone else") from exc
        doc = advance(current, stored)
        await self._write(doc)
        self._told(doc_id, step)
        return doc

    async def create_many(self, steps: Mapping[str, Step]) -> list[str]:
        """All in two inserts (the steps, then the documents). One that has a first version already has its
        document brought up to its steps, in case the writer of that version died before writing it."""
        stored = [_stored(doc_id, 1, step) for doc_id, step in steps.items()]
        refused = set(await write_many(self.steps, "insert", stored, ordered=False))
        won = [s for n, s in enumerate(stored) if n not in refused]
        # A document refused here exists already, at this version or a later one.
        await self.table.insert_many([advance(None, s) for s in won], ordered=False)
        taken = [stored[n]["doc_id"] for n in sorted(refused)]
        cached = await self.table.get_many(taken, projection={"_id": 1})
        for doc_id in taken:
            if doc_id not in cached:
                await self.get(doc_id)
        if self.on_events is not None:
            for s in won:
                if s["events"]:
                    self.on_events(s["doc_id"])
        return [s["doc_id"] for s in won]

    async def delete(self, doc_id: str) -> None:
        # Its steps first (a document is rebuilt from its steps), with one that may have been written meanwhile.
        doc = await self.table.get(doc_id, projection={"version": 1})
        last = int(doc["version"]) + 1 if doc is not None else 1
        await asyncio.gather(*(self.steps.delete_one({"_id": step_id(doc_id, v)}) for v in range(1, last + 1)))
        await self.table.delete(doc_id)

    async def forget_before(self, at: datetime) -> None:
        await self.steps.delete_many({"at": {"$lte": at}})

    async def rewrite_steps(self, doc_id: str, rewrite: Callable[[Document], Document]) -> int:
        # The step ids of one document sort together: `<id>#<version>`, between `<id>#` and `<id>$`.
        count = 0
        async for step in self.steps.find({"_id": {"$gt": f"{doc_id}#", "$lt": f"{doc_id}$"}}):
            rewritten = {**rewrite(step), "_id": step["_id"]}
            if rewritten != step:
                await self.steps.replace_one({"_id": step["_id"]}, rewritten)
                count += 1
        return count
