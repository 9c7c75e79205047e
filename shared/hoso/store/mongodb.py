"""The MongoDB adapter: secondary indexes answer filters, a guarded update is one atomic command, versioned documents
are compare-and-set on their version, and on a replica set one fact of several documents is one transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from hoso.documents import Document
from hoso.mongo import bson_now
from hoso.store import (
    _SESSION,
    Adapter,
    Filter,
    Guard,
    Numbering,
    NumbersExhausted,
    Order,
    Store,
    Table,
    Write,
    asked_of_the_server,
    session,
    upsert,
    write_many,
)
from hoso.versioned import GuardedStore, Versioned

T = TypeVar("T")


class MongoDBAdapter(Adapter):
    name = "mongodb"

    def __init__(self, *, transactions: bool = False) -> None:
        # A standalone server has no transactions; a replica set (or a sharded cluster) has.
        self.transactions = transactions

    async def get_many(
        self, table: Table, ids: Sequence[Any], projection: Mapping[str, int] | None
    ) -> dict[Any, Document]:
        cursor = table.raw.find({"_id": {"$in": list(ids)}}, projection=projection, session=session())
        return {d["_id"]: d async for d in cursor}

    async def update_if(self, table: Table, doc_id: Any, guard: Guard, update: Document, upsert: bool) -> bool:
        result = await table.raw.update_one({"_id": doc_id, **guard.query}, update, upsert=upsert, session=session())
        return result.matched_count == 1 or result.upserted_id is not None

    async def update_many_if(self, table: Table, writes: Sequence[Write], ordered: bool) -> list[int]:
        statements = [
            {"q": {"_id": w.doc_id, **(w.guard.query if w.guard else {})}, "u": w.update, "upsert": w.upsert}
            for w in writes
        ]
        return await write_many(table.raw, "update", statements, ordered=ordered)

    async def replace_if_newer(self, table: Table, doc: Document) -> None:
        # A duplicate key: the document exists at this version or a later one.
        with contextlib.suppress(DuplicateKeyError):
            await table.raw.replace_one(
                {"_id": doc["_id"], "version": {"$lt": doc["version"]}}, doc, upsert=True, session=session()
            )

    async def find(
        self,
        table: Table,
        where: Filter,
        projection: Mapping[str, int] | None,
        order: Order | None,
        skip: int,
        limit: int | None,
    ) -> list[Document]:
        return await asked_of_the_server(table, where, projection, order, skip, limit)

    async def count(self, table: Table, where: Filter) -> int:
        return await table.raw.count_documents(where.query, session=session())

    def versioned(self, table: Table, attempts: int) -> Versioned:
        return GuardedStore(table, attempts=attempts)

    async def claim(self, numbering: Numbering, scope: str, owner: Any) -> int:
        # `$inc` is atomic here: the counter itself hands out the numbers (a number past the last is never used).
        counter = await upsert(
            lambda: numbering.counters.raw.find_one_and_update(
                {"_id": scope},
                {"$inc": {"sequence": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
                session=session(),
            )
        )
        assert counter is not None  # an upsert returning the document after it always has one
        number = int(counter["sequence"])
        if number > numbering.at_most:
            raise NumbersExhausted(f"all {numbering.at_most} numbers of {scope} are taken")
        # Who claimed it, so that a number whose owner was never stored can be accounted for.
        await numbering.claims.insert({"_id": numbering.claim_id(scope, number), "owner": owner, "at": bson_now()})
        return number

    async def together(self, store: Store, work: Callable[[], Awaitable[T]]) -> T:
        if not self.transactions or session() is not None:
            return await work()

        async def in_transaction(s: AsyncClientSession) -> T:
            token = _SESSION.set(s)
            try:
                return await work()
            finally:
                _SESSION.reset(token)

        async with store.db.client.start_session() as s:
            return await s.with_transaction(in_transaction)
