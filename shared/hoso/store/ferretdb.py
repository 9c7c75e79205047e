"""The FerretDB v1 adapter (the embedded default, on SQLite).

FerretDB v1 answers only a bare `{_id: value}` filter from an index: any other filter, `$in` included, reads the
whole collection, and an update is a read followed by a write, so a filtered update cannot serialise two writers.
Here, therefore:

- documents are looked up by `_id` one by one, concurrently;
- a guarded update is a read by `_id`, the guard checked in Python, and a write by `_id`;
- versioned documents are numbered steps, one insert per version (`hoso.versioned.StepStore`);
- a number of a `Numbering` is claimed by inserting its claim document (`<scope>|<n>`, naming its owner), since an
  insert by `_id` is atomic where an `$inc` is not; the counter only says where to start looking. A process claims
  a scope's numbers one at a time, each after the last it claimed, so its concurrent claims do not walk over each
  other (another process's claims cost a retry each); it keeps that state for the `KEPT_SCOPES` scopes it used last;
- a copied table (`Copied`) keeps each partition's open documents in memory: every page asked of it is filtered,
  sorted and cut from that copy, which first reads the partition's change log (`hoso.changes`) from where it stands
  and reads again the documents named there, so a page shows every change any process had made when it was asked.
  Pages that arrive together share one such catch-up. Far behind (more than `at_most` changes), and every
  `full_read_seconds` in the background, the copy is read again whole (which also takes in a change whose writer
  died before logging it). Every write to a copied table through the port appends to its change log.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import DuplicateKeyError

from hoso.changes import ChangeLog
from hoso.documents import Document
from hoso.logs import get_logger
from hoso.mongo import bson_now
from hoso.store import (
    Adapter,
    Copied,
    Filter,
    Guard,
    Numbering,
    NumbersExhausted,
    Order,
    Table,
    Write,
    asked_of_the_server,
    write_many,
)
from hoso.store.lookups import by_ids
from hoso.versioned import StepStore, Versioned

log = get_logger(__name__)

# Scopes of a numbering whose claims state (lock, last number claimed) a process keeps: the most recently used.
KEPT_SCOPES = 64


def _below(number: int) -> Guard:
    return Guard({"sequence": {"$not": {"$gte": number}}}, lambda doc: doc is None or doc.get("sequence", 0) < number)


class _Claims:
    """One numbering's claims in this process: per scope, its lock and the last number claimed (bounded)."""

    def __init__(self) -> None:
        self.locks: OrderedDict[str, asyncio.Lock] = OrderedDict()
        self.last: dict[str, int] = {}

    def lock_of(self, scope: str) -> asyncio.Lock:
        lock = self.locks.pop(scope, None) or asyncio.Lock()
        self.locks[scope] = lock
        surplus = max(0, len(self.locks) - KEPT_SCOPES)
        for old in [k for k, held in self.locks.items() if not held.locked()][:surplus]:
            del self.locks[old]
            self.last.pop(old, None)
        return lock


class FerretDBAdapter(Adapter):
    name = "ferretdb"

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._copies: dict[str, _Copies] = {}
        self._claims: dict[str, _Claims] = {}

    async def claim(self, numbering: Numbering, scope: str, owner: Any) -> int:
        claims = self._claims.setdefault(numbering.claims.name, _Claims())
        async with claims.lock_of(scope):
            number = claims.last.get(scope, 0) + 1
            if number == 1:
                counter = await numbering.counters.get(scope, projection={"sequence": 1})
                number = int((counter or {}).get("sequence", 0)) + 1
            while True:
                if number > numbering.at_most:
                    raise NumbersExhausted(f"all {numbering.at_most} numbers of {scope} are taken")
                claim = {"_id": numbering.claim_id(scope, number), "owner": owner, "at": bson_now()}
                if await numbering.claims.insert(claim):
                    break
                number += 1
            claims.last[scope] = number
        with contextlib.suppress(DuplicateKeyError):  # the counter is at or past this number already
            await numbering.counters.update_if(scope, _below(number), {"$set": {"sequence": number}}, upsert=True)
        return number

    def _copies_of(self, table: Table) -> _Copies:
        assert table.copied is not None
        copies = self._copies.get(table.name)
        if copies is None:
            log_of_changes = ChangeLog(table.raw.database[f"{table.name}_changes"])
            copies = self._copies[table.name] = _Copies(table, table.copied, log_of_changes, self._clock)
        return copies

    async def get_many(
        self, table: Table, ids: Sequence[Any], projection: Mapping[str, int] | None
    ) -> dict[Any, Document]:
        return await by_ids(table.raw, ids, projection)

    async def update_if(self, table: Table, doc_id: Any, guard: Guard, update: Document, upsert: bool) -> bool:
        current = await table.raw.find_one({"_id": doc_id})
        if not guard.holds(current) or (current is None and not upsert):
            return False
        result = await table.raw.update_one({"_id": doc_id}, update, upsert=upsert)
        return result.matched_count == 1 or result.upserted_id is not None

    async def update_many_if(self, table: Table, writes: Sequence[Write], ordered: bool) -> list[int]:
        guarded = [w.doc_id for w in writes if w.guard is not None]
        stored = await by_ids(table.raw, guarded) if guarded else {}
        kept = [(n, w) for n, w in enumerate(writes) if w.guard is None or w.guard.holds(stored.get(w.doc_id))]
        statements = [{"q": {"_id": w.doc_id}, "u": w.update, "upsert": w.upsert} for _, w in kept]
        refused = await write_many(table.raw, "update", statements, ordered=ordered)
        return [kept[r][0] for r in refused]

    async def replace_if_newer(self, table: Table, doc: Document) -> None:
        # The version compared on a read by `_id`: a newer version written in between is overwritten by this older
        # one, and restored by the next read of its steps.
        stored = await table.raw.find_one({"_id": doc["_id"]}, projection={"version": 1})
        if stored is None or stored["version"] < doc["version"]:
            await table.raw.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def find(
        self,
        table: Table,
        where: Filter,
        projection: Mapping[str, int] | None,
        order: Order | None,
        skip: int,
        limit: int | None,
    ) -> list[Document]:
        found = await self._from_copy(table, where)
        if found is None:
            return await asked_of_the_server(table, where, projection, order, skip, limit)
        if order is not None:
            assert order.key is not None, f"{table.name}: an order of a copied table says its key in Python"
            found.sort(key=order.key)
        return found[skip:] if limit is None else found[skip : skip + limit]

    async def count(self, table: Table, where: Filter) -> int:
        found = await self._from_copy(table, where)
        return await table.raw.count_documents(where.query) if found is None else len(found)

    async def _from_copy(self, table: Table, where: Filter) -> list[Document] | None:
        """What `where` matches, from the table's copy, or None when the copy does not hold the answer."""
        if table.copied is None or not where.kept or where.partition is None or where.holds is None:
            return None
        holds = where.holds
        return [d for d in await self._copies_of(table).documents(where.partition) if holds(d)]

    def versioned(self, table: Table, attempts: int) -> Versioned:
        return StepStore(table, attempts=attempts)

    async def written(self, table: Table, docs: Sequence[Document] = (), ids: Sequence[Any] = ()) -> None:
        if table.copied is None:
            return
        partition = table.copied.partition
        where = {d["_id"]: d.get(partition) for d in docs}
        unknown = [i for i in ids if i not in where]
        if unknown:
            found = await by_ids(table.raw, unknown, {partition: 1})
            where.update({i: found[i].get(partition) for i in unknown if i in found})
        changes = self._copies_of(table).changes
        for doc_id, value in where.items():
            if value is None:
                continue
            try:
                await changes.append(str(value), doc_id)
            except Exception:
                # The write stands; copies see it at their next whole read.
                log.warning("store.change_not_logged", table=table.name, doc_id=doc_id, exc_info=True)


@dataclass
class _Copy:
    docs: dict[Any, Document]
    position: int
    read_at: float
    # Pages ask in turn (`asked`); a catch-up that began after page n had asked serves it (`covered` >= n).
    asked: int = 0
    covered: int = 0
    catching: asyncio.Task[None] | None = None
    rereading: asyncio.Task[_Copy] | None = None


@dataclass
class _Copies:
    """The in-memory copies of one table's partitions."""

    table: Table
    spec: Copied
    changes: ChangeLog
    clock: Callable[[], float]
    _copies: dict[str, _Copy] = field(default_factory=dict)
    _first: dict[str, asyncio.Task[_Copy]] = field(default_factory=dict)

    async def documents(self, partition: str) -> list[Document]:
        copy = self._copies.get(partition)
        if copy is None:
            first = self._first.get(partition)
            if first is None:
                first = self._first[partition] = asyncio.ensure_future(self._read_whole(partition))
            try:
                copy = self._copies.setdefault(partition, await asyncio.shield(first))
            finally:
                self._first.pop(partition, None)
        copy.asked += 1
        ticket = copy.asked
        while copy.covered < ticket:
            if copy.catching is None:
                copy.catching = asyncio.ensure_future(self._catch_up(partition, copy, copy.asked))
            await asyncio.shield(copy.catching)
        if copy.rereading is None and self.clock() - copy.read_at > self.spec.full_read_seconds:
            copy.rereading = asyncio.ensure_future(self._read_whole(partition))
        return list(copy.docs.values())

    def _kept(self, doc: Document | None, partition: str) -> bool:
        holds = self.spec.keep.holds
        assert holds is not None
        return doc is not None and doc.get(self.spec.partition) == partition and holds(doc)

    async def _read_whole(self, partition: str) -> _Copy:
        began = self.clock()
        # The log's end first: whatever changes during the read is read again after it.
        position = await self.changes.end(partition)
        query = {self.spec.partition: partition, **self.spec.keep.query}
        docs = {d["_id"]: d async for d in self.table.raw.find(query, projection=dict(self.spec.projection))}
        log.info(
            "store.copy_read", table=self.table.name, partition=partition, documents=len(docs),
            seconds=round(self.clock() - began, 3),
        )  # fmt: skip
        return _Copy(docs=docs, position=position, read_at=began)

    async def _catch_up(self, partition: str, copy: _Copy, covers: int) -> None:
        try:
            if copy.rereading is not None and copy.rereading.done():
                reread, copy.rereading = copy.rereading, None
                if reread.exception() is None:
                    fresh = reread.result()
                    copy.docs, copy.position, copy.read_at = fresh.docs, fresh.position, fresh.read_at
                else:
                    log.warning("store.copy_read_failed", table=self.table.name, exc_info=reread.exception())
            changes = await self.changes.since(partition, copy.position, at_most=self.spec.at_most)
            if changes.ids is None:
                fresh = await self._read_whole(partition)
                copy.docs, copy.position, copy.read_at = fresh.docs, fresh.position, fresh.read_at
            else:
                rows = await by_ids(self.table.raw, changes.ids, self.spec.projection)
                for doc_id in changes.ids:
                    doc = rows.get(doc_id)
                    if self._kept(doc, partition):
                        assert doc is not None
                        copy.docs[doc_id] = doc
                    else:
                        copy.docs.pop(doc_id, None)
                copy.position = changes.position
            copy.covered = covers
        finally:
            copy.catching = None
