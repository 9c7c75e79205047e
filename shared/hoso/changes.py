"""Which documents changed, in order, per partition: an append-only log that any process reads from where it was.

A process that keeps a copy of many documents in memory (FerretDB v1 answers only look-ups by `_id` from an index,
so a filtered read of a large collection reads all of it) reads the log from its position on each use and reads
again only the documents named there. Writers append after they have written the document, so a reader that begins
after a write has returned finds it in the log.

Every operation is a look-up or an insert by `_id`, and the insert that succeeds owns its slot: slot `n` of a
partition is entry `<partition>#<n>`, a writer takes the first free slot after the last one it knows, and the
partition's hint document `<partition>` records a recently taken slot (it may lag: readers go on past it until a slot
is empty). The slots taken form an unbroken run from 1, so a reader at position `p` has read every change up to `p`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from hoso.mongo import Document, bson_now
from hoso.store import upsert
from hoso.store.lookups import by_ids


def entry_id(partition: str, slot: int) -> str:
    return f"{partition}#{slot:012d}"


@dataclass(frozen=True)
class Changes:
    """What a reader finds after its position: the changed documents' ids (each once, in order) and where it is now;
    `ids` is None when more than the reader asked for changed (it reads everything again instead)."""

    ids: Sequence[str] | None
    position: int


@dataclass
class ChangeLog:
    collection: AsyncCollection[Document]
    # The last slot this process knows to be taken, per partition (saves probing past it).
    _known: dict[str, int] = field(default_factory=dict)

    async def _hint(self, partition: str) -> int:
        found = await self.collection.find_one({"_id": partition})
        return max(0 if found is None else int(found["end"]), self._known.get(partition, 0))

    async def _taken(self, partition: str, slot: int) -> bool:
        return await self.collection.find_one({"_id": entry_id(partition, slot)}, projection={"_id": 1}) is not None

    async def append(self, partition: str, doc_id: str) -> int:
        """Record that `doc_id` has changed (after it has been written); returns its slot."""
        hint = await self._hint(partition)
        slot = hint + 1
        while True:
            try:
                await self.collection.insert_one({"_id": entry_id(partition, slot), "doc_id": doc_id, "at": bson_now()})
                break
            except DuplicateKeyError:
                slot += 1
        self._known[partition] = max(slot, self._known.get(partition, 0))
        await upsert(partial(self.collection.replace_one, {"_id": partition}, {"end": slot}, upsert=True))
        return slot

    async def end(self, partition: str) -> int:
        """The last slot taken: a reader that starts here has every later change ahead of it."""
        slot = await self._hint(partition)
        while await self._taken(partition, slot + 1):
            slot += 1
        self._known[partition] = max(slot, self._known.get(partition, 0))
        return slot

    async def since(self, partition: str, position: int, *, at_most: int) -> Changes:
        """The documents changed after `position`, or None for `ids` when more than `at_most` entries follow it."""
        hint = await self._hint(partition)
        if hint - position > at_most:
            return Changes(None, await self.end(partition))
        slots = range(position + 1, hint + 1)
        found = await by_ids(self.collection, [entry_id(partition, s) for s in slots], projection={"doc_id": 1})
        ids = [found[entry_id(partition, s)]["doc_id"] for s in slots if entry_id(partition, s) in found]
        if len(ids) < len(slots):
            # Entries are never removed: an empty slot below the hint means the log is not this module's.
            raise RuntimeError(f"change log of {partition!r} has a hole between {position} and {hint}")
        slot = hint
        while (entry := await self.collection.find_one({"_id": entry_id(partition, slot + 1)})) is not None:
            ids.append(entry["doc_id"])
            slot += 1
            if slot - position > at_most:
                return Changes(None, await self.end(partition))
        self._known[partition] = max(slot, self._known.get(partition, 0))
        return Changes(list(dict.fromkeys(ids)), slot)
