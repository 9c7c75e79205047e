"""`hoso.store.write_many` keeps ordered semantics on FerretDB v1, which continues past a refusal after 100 writes."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from hoso.mongo import Document
from hoso.store import write_many


async def test_an_ordered_insert_stops_at_the_first_refusal_however_long(database: AsyncDatabase[Document]) -> None:
    collection = database["entries"]
    await collection.insert_one({"_id": "e-10"})
    documents = [{"_id": f"e-{n}", "n": n} for n in range(250)]

    refused = await write_many(collection, "insert", documents, ordered=True)

    assert refused == [10]
    stored = sorted([d["n"] async for d in collection.find({"n": {"$exists": True}})])
    assert stored == list(range(10))


async def test_an_unordered_insert_writes_everything_but_the_refused(database: AsyncDatabase[Document]) -> None:
    collection = database["entries"]
    await collection.insert_many([{"_id": "e-3"}, {"_id": "e-140"}])

    refused = await write_many(collection, "insert", [{"_id": f"e-{n}", "n": n} for n in range(150)], ordered=False)

    assert refused == [3, 140]
    assert await collection.count_documents({"n": {"$exists": True}}) == 148


async def test_ordered_updates_stop_at_the_first_refused_upsert(database: AsyncDatabase[Document]) -> None:
    collection = database["counters"]
    await collection.insert_one({"_id": "c-7", "done": True})
    updates = [
        {"q": {"_id": f"c-{n}", "done": {"$ne": True}}, "u": {"$set": {"n": n}}, "upsert": True} for n in range(180)
    ]

    refused = await write_many(collection, "update", updates, ordered=True)

    # FerretDB v1 names the first update of the command rather than the refused one: at or before it is promised.
    assert len(refused) == 1
    assert refused[0] <= 7
    assert sorted([d["n"] async for d in collection.find({"n": {"$exists": True}})]) == list(range(7))
