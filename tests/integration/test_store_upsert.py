"""Upserts by `_id` from several processes at once: FerretDB v1 can answer one of them with a duplicate key."""

from __future__ import annotations

import asyncio
from functools import partial

from pymongo.asynchronous.database import AsyncDatabase

from hoso.mongo import Document
from hoso.store import upsert


async def test_concurrent_first_upserts_of_one_document_all_succeed(database: AsyncDatabase[Document]) -> None:
    collection = database["definitions"]
    for round_ in range(5):
        doc_id = f"definition-{round_}"
        results = await asyncio.gather(
            *(
                upsert(partial(collection.replace_one, {"_id": doc_id}, {"_id": doc_id, "writer": n}, upsert=True))
                for n in range(8)
            ),
            return_exceptions=True,
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert await collection.count_documents({"_id": doc_id}) == 1


async def test_concurrent_first_increments_raise_nothing(database: AsyncDatabase[Document]) -> None:
    # `$inc` is not atomic on FerretDB v1 either (intake's unique dossier code catches a number handed out twice);
    # what `upsert` promises is that creating the counter never fails.
    collection = database["counters"]
    results = await asyncio.gather(
        *(upsert(partial(collection.update_one, {"_id": "day"}, {"$inc": {"n": 1}}, upsert=True)) for _ in range(8)),
        return_exceptions=True,
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert await collection.count_documents({"_id": "day"}) == 1
