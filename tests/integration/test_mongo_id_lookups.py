"""Looking a document up by `_id` uses the collection's `_id` index on the server the tests run against: on FerretDB
v1 that holds only for the build deploy/local makes (it patches the SQLite backend, whose stock `_id` look-ups read
the whole table). FerretDB runs an update or delete by `_id` as this same look-up, then writes by `_id` with the same
expression; its `explain` of an update does not show the look-up, so the find is what is checked."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from hoso.mongo import Document


def _plan(explained: dict[str, Any]) -> str:
    return str(explained.get("queryPlanner", explained))


async def test_an_id_lookup_reads_the_id_index_not_the_whole_collection(database: AsyncDatabase[Document]) -> None:
    collection = database["documents"]
    await collection.insert_many([{"_id": f"d-{n}", "n": n} for n in range(50)])
    ferretdb = "ferretdbVersion" in await database.client.admin.command("buildInfo")

    for explain in (
        {"find": collection.name, "filter": {"_id": "d-42"}},
        {"find": collection.name, "filter": {"_id": "d-7"}, "projection": {"n": 1}, "limit": 1},
    ):
        plan = _plan(await database.command("explain", explain))
        if ferretdb:
            assert "USING INDEX" in plan, (explain, plan)
            assert f"SCAN {collection.name}" not in plan, (explain, plan)
        else:
            assert "COLLSCAN" not in plan, (explain, plan)

    assert await collection.find_one({"_id": "d-42"}) is not None
    assert await collection.count_documents({}) == 50
