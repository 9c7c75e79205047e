"""The persistence port's contract: every operation means the same through FerretDB's adapter and MongoDB's, on the
server the tests have (the `store` fixture runs each test once per adapter). MongoDB's adapter relies on the server's
conditional update being atomic, which FerretDB v1's is not: its queries are valid there and right for one writer at a
time, so what concurrent writers may expect is tested with the adapter the server calls for."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from hoso.mongo import Document
from hoso.steps import Step
from hoso.store import Copied, Filter, Guard, NumbersExhausted, Order, Store, Write, adapter_for
from hoso.store.ferretdb import KEPT_SCOPES, FerretDBAdapter, _Claims
from hoso.store.mongodb import MongoDBAdapter
from hoso.versioned import VersionConflict
from tests.support import submitted_event

BY_N = Order([("n", 1), ("_id", 1)], lambda d: (d["n"], d["_id"]))


def below(limit: int) -> Guard:
    return Guard({"n": {"$lt": limit}}, lambda doc: doc is not None and doc["n"] < limit)


async def test_the_adapter_is_chosen_from_what_the_server_says_of_itself(database: AsyncDatabase[Document]) -> None:
    ferretdb = "ferretdbVersion" in await database.client.admin.command("buildInfo")
    chosen = await Store(database).connect()
    assert isinstance(chosen, FerretDBAdapter if ferretdb else MongoDBAdapter)
    assert type(await adapter_for(database)) is type(chosen)


async def test_get_and_get_many_by_id_leave_absent_ones_out(store: Store) -> None:
    table = store.table("things")
    assert await table.insert_many([{"_id": f"t-{n}", "n": n, "big": "x" * 10} for n in range(150)], ordered=True) == []
    assert await table.get("t-7") == {"_id": "t-7", "n": 7, "big": "x" * 10}
    assert await table.get("none") is None
    assert await table.get("t-7", {"n": 1}) == {"_id": "t-7", "n": 7}
    found = await table.get_many([f"t-{n}" for n in range(0, 150, 2)] + ["none", "t-0"], {"big": 0})
    assert sorted(found) == sorted(f"t-{n}" for n in range(0, 150, 2))
    assert found["t-4"] == {"_id": "t-4", "n": 4}
    assert await table.get_many([]) == {}


async def test_insert_if_absent_and_many_name_what_was_refused(store: Store) -> None:
    table = store.table("things")
    assert await table.insert({"_id": "a", "n": 1})
    assert not await table.insert({"_id": "a", "n": 2})
    assert (await table.get("a")) == {"_id": "a", "n": 1}
    docs = [{"_id": k, "n": n} for n, k in enumerate(["b", "a", "c", "d"])]
    assert await table.insert_many(docs, ordered=True) == [1]
    assert sorted(await table.get_many("abcd")) == ["a", "b"]
    assert await table.insert_many(docs, ordered=False) == [0, 1]
    assert sorted(await table.get_many("abcd")) == ["a", "b", "c", "d"]


async def test_put_update_and_take(store: Store) -> None:
    table = store.table("things")
    await asyncio.gather(*(table.put({"_id": "p", "n": n}) for n in range(6)))  # concurrent creations
    assert (await table.get("p") or {})["n"] in range(6)
    await table.put({"_id": "p", "n": 9})
    assert await table.get("p") == {"_id": "p", "n": 9}
    assert not await table.update("q", {"$set": {"n": 1}})
    assert await table.get("q") is None
    assert await table.update("q", {"$set": {"n": 1}}, upsert=True)
    assert await table.update("q", {"$inc": {"n": 1}})
    assert await table.get("q") == {"_id": "q", "n": 2}
    await table.put({"_id": "r", "queue": [3, 4]})
    taken = await table.take({"_id": "r", "queue.0": {"$exists": True}}, {"$pop": {"queue": -1}})
    assert taken is not None
    assert taken["queue"] == [3, 4]
    assert (await table.get("r") or {})["queue"] == [4]
    assert await table.take({"_id": "nothing"}, {"$set": {"n": 1}}) is None


async def test_a_guarded_update_happens_only_while_its_guard_holds(store: Store) -> None:
    table = store.table("things")
    await table.put({"_id": "g", "n": 1})
    assert await table.update_if("g", below(5), {"$set": {"n": 5}})
    assert not await table.update_if("g", below(5), {"$set": {"n": 6}})
    assert (await table.get("g") or {})["n"] == 5
    assert not await table.update_if("absent", below(5), {"$set": {"n": 1}})
    assert await table.get("absent") is None
    new = Guard({"n": {"$not": {"$gte": 3}}}, lambda doc: doc is None or doc["n"] < 3)
    assert await table.update_if("created", new, {"$set": {"n": 2}}, upsert=True)
    assert await table.update_if("created", new, {"$set": {"n": 3}}, upsert=True)
    assert (await table.get("created") or {})["n"] == 3


async def test_several_guarded_updates_skip_those_whose_guard_fails_and_stop_at_a_refusal_when_ordered(
    store: Store,
) -> None:
    table = store.table("things")
    await table.insert_many([{"_id": f"w-{n}", "n": n} for n in range(6)], ordered=True)
    writes = [Write(f"w-{n}", {"$set": {"n": 10 + n}}, below(3)) for n in range(6)]
    writes.append(Write("w-new", {"$set": {"n": 0}}, upsert=True))
    assert await table.update_many_if(writes, ordered=False) == []
    stored = {i: d["n"] for i, d in (await table.get_many([*(f"w-{n}" for n in range(6)), "w-new"])).items()}
    assert stored == {"w-0": 10, "w-1": 11, "w-2": 12, "w-3": 3, "w-4": 4, "w-5": 5, "w-new": 0}

    # A unique index refuses one upsert: with `ordered`, what follows it is not written.
    await table.raw.create_index("code", unique=True, name="code_unique")
    await table.put({"_id": "x-1", "code": "C"})
    ordered = [Write("x-0", {"$set": {"code": "A"}}, upsert=True), Write("x-2", {"$set": {"code": "C"}}, upsert=True)]
    ordered.append(Write("x-3", {"$set": {"code": "D"}}, upsert=True))
    refused = await table.update_many_if(ordered, ordered=True)
    assert refused
    assert refused[0] <= 1
    assert await table.get("x-3") is None


async def test_a_replacement_never_goes_back_to_an_older_version(store: Store) -> None:
    table = store.table("things")
    await table.replace_if_newer({"_id": "v", "version": 2, "state": "b"})
    await table.replace_if_newer({"_id": "v", "version": 1, "state": "a"})
    assert await table.get("v") == {"_id": "v", "version": 2, "state": "b"}
    await table.replace_if_newer({"_id": "v", "version": 3, "state": "c"})
    assert (await table.get("v") or {})["state"] == "c"


async def test_find_page_and_count_by_a_filter_in_order(store: Store) -> None:
    table = store.table("things")
    await table.insert_many([{"_id": f"f-{n:02d}", "n": n % 7, "even": n % 2 == 0} for n in range(40)], ordered=True)
    evens = Filter({"even": True}, lambda d: d["even"])
    everything = sorted(await table.find({}), key=lambda d: d["_id"])
    assert len(everything) == 40
    found = await table.find(evens, {"n": 1}, order=BY_N, limit=5)
    assert [(d["n"], d["_id"]) for d in found] == sorted((n % 7, f"f-{n:02d}") for n in range(0, 40, 2))[:5]
    assert set(found[0]) == {"_id", "n"}
    rows, total = await table.page(evens, order=BY_N, skip=15, limit=10)
    assert total == 20
    assert [d["_id"] for d in rows] == [i for _, i in sorted((n % 7, f"f-{n:02d}") for n in range(0, 40, 2))][15:]
    assert await table.count({"n": 0}) == 6
    assert await table.find_one({"n": 6, "even": False}) is not None
    assert await table.delete("f-00")
    assert not await table.delete("f-00")
    assert await table.delete_many({"even": True}) == 19
    assert await table.count({}) == 20


COPIED = Copied(
    "agency", Filter({"open": True}, lambda d: d["open"]), {"_id": 1, "agency": 1, "open": 1, "n": 1}, at_most=50
)


def open_of(agency: str) -> Filter:
    return Filter(
        {"agency": agency, "open": True},
        lambda d: d.get("agency") == agency and d["open"],
        partition=agency,
        kept=True,
    )


async def test_a_copied_table_answers_as_the_database_does_and_sees_every_write_made_through_the_port(
    store: Store, database: AsyncDatabase[Document]
) -> None:
    here = store.table("cases", copied=COPIED)
    there = Store(database, type(await store.adapter())()).table("cases", copied=COPIED)  # another process
    await there.insert_many(
        [{"_id": f"c-{n:02d}", "agency": "A", "open": n % 3 > 0, "n": n} for n in range(30)], ordered=True
    )
    expected = sorted(f"c-{n:02d}" for n in range(30) if n % 3 > 0)
    rows, total = await here.page(open_of("A"), order=BY_N, skip=0, limit=100)
    assert ([d["_id"] for d in rows], total) == (expected, 20)

    # Another process closes one, reopens one, deletes one, adds one to another agency and changes one by a guarded
    # update.
    await there.update("c-01", {"$set": {"open": False}})
    await there.put({"_id": "c-03", "agency": "A", "open": True, "n": 3})
    assert await there.delete("c-02")
    assert await there.insert({"_id": "c-b", "agency": "B", "open": True, "n": 1})
    assert await there.update_if("c-04", below(5), {"$set": {"n": 40}})
    rows, total = await here.page(open_of("A"), order=BY_N, skip=0, limit=100)
    want = sorted(({f"c-{n:02d}" for n in range(30) if n % 3 > 0} - {"c-01", "c-02"}) | {"c-03"})
    assert sorted(d["_id"] for d in rows) == want
    assert total == len(want)
    assert rows[-1]["_id"] == "c-04"  # in order, by its new n
    assert [d["_id"] for d in await here.find(open_of("B"))] == ["c-b"]
    assert await here.count(open_of("A")) == len(want)
    # A filter beyond what the copy keeps goes to the database.
    assert await here.count(Filter({"agency": "A"}, partition="A")) == 29


def increment(doc: Document | None) -> Step:
    count = (doc or {}).get("count", 0) + 1
    first = [("t", submitted_event("k-1"))] if count == 1 else []
    return Step(fields={"count": count}, events=first, record={"to": count})


async def test_versioned_documents_keep_their_steps_outbox_and_history_and_refuse_a_stale_change(store: Store) -> None:
    counters = store.versioned("counters")
    woken: list[str] = []
    counters.on_events = woken.append
    for _ in range(5):
        await counters.transact("k-1", increment)
    doc = await counters.get("k-1")
    assert doc is not None
    assert (doc["count"], doc["version"], doc["outbox_rev"]) == (5, 5, 1)
    assert [h["record"]["to"] for h in await counters.history(doc)] == list(range(1, 6))
    assert woken == ["k-1"]

    # A change decided on a copy that is no longer current is refused, not written over the newer one.
    stale = {**doc, "version": 4}
    with pytest.raises(VersionConflict):
        await counters.commit("k-1", stale, Step(fields={"count": 0}))
    assert (await counters.get("k-1") or {})["count"] == 5
    # Given the copy it has just written, a caller's next step is decided on it.
    after, changed = await counters.transact("k-1", increment, cached=doc)
    assert changed
    assert after is not None
    assert after["count"] == 6


async def test_versioned_documents_lose_no_update_among_concurrent_writers(database: AsyncDatabase[Document]) -> None:
    # With the adapter the server calls for: a compare-and-set is atomic on MongoDB only, numbered steps on both.
    counters = Store(database).versioned("counters", attempts=200)
    await asyncio.gather(*(counters.transact("k-1", increment) for _ in range(16)))
    doc = await counters.get("k-1")
    assert doc is not None
    assert (doc["count"], doc["version"], doc["outbox_rev"]) == (16, 16, 1)


async def test_versioned_documents_created_many_at_once_leave_existing_ones_as_they_are(store: Store) -> None:
    docs = store.versioned("deliveries")
    await docs.transact("d-1", lambda _: Step(fields={"state": "first"}))
    steps = {i: Step(fields={"state": "second"}) for i in ("d-1", "d-2", "d-3")}
    assert await docs.create_many(steps) == ["d-2", "d-3"]
    assert await docs.create_many(steps) == []
    assert {i: (d["version"], d["state"]) for i, d in (await docs.table.get_many(["d-1", "d-2", "d-3"])).items()} == {
        "d-1": (1, "first"),
        "d-2": (1, "second"),
        "d-3": (1, "second"),
    }
    await docs.delete("d-2")
    assert await docs.get("d-2") is None
    await docs.forget_before(datetime.now(UTC) + timedelta(seconds=1))
    assert await docs.get("d-2") is None
    assert (await docs.get("d-1") or {})["state"] == "first"


async def test_one_fact_of_two_documents_is_written_together(store: Store) -> None:
    personal, summary = store.table("personal"), store.table("summary")
    await summary.put({"_id": "s", "name": "Nguyễn Văn A"})

    async def erase() -> None:
        await personal.update("s", {"$set": {"values": None}}, upsert=True)
        await summary.update("s", {"$set": {"name": ""}})

    await store.together(erase)
    assert await personal.get("s") == {"_id": "s", "values": None}
    assert await summary.get("s") == {"_id": "s", "name": ""}

    async def fails_half_way() -> None:
        await personal.update("t", {"$set": {"values": None}}, upsert=True)
        raise RuntimeError("the second write failed")

    with pytest.raises(RuntimeError):
        await store.together(fails_half_way)
    adapter = await store.adapter()
    transactions = isinstance(adapter, MongoDBAdapter) and adapter.transactions
    # With transactions neither write stays; without them the first one does (and its writer must redo the rest).
    assert (await personal.get("t") is None) is transactions


async def test_numbers_are_claimed_in_order_one_given_back_comes_first_and_the_last_is_the_last(store: Store) -> None:
    numbers = store.numbering(counters="counters", claims="claims", at_most=5)
    assert [await numbers.claim("BNNMT|2026-11-27", f"d-{n}") for n in range(3)] == [1, 2, 3]
    assert await numbers.claim("UBND.HN|2026-11-27", "other") == 1  # each scope counts on its own
    await numbers.give_back("BNNMT|2026-11-27", 2)
    assert await numbers.claim("BNNMT|2026-11-27", "d-again") == 2
    # Only a number given back is claimed again: the others are never reused, whether their owners were stored or not.
    assert [await numbers.claim("BNNMT|2026-11-27", f"d-{n}") for n in (4, 5)] == [4, 5]
    with pytest.raises(NumbersExhausted, match=re.escape("all 5 numbers of BNNMT|2026-11-27")):
        await numbers.claim("BNNMT|2026-11-27", "one-too-many")
    # Each number names its first claimer (the unused ones can be accounted for).
    assert await numbers.owner("BNNMT|2026-11-27", 3) == "d-2"
    assert await numbers.owner("BNNMT|2026-11-27", 2) == "d-1"
    assert await numbers.owner("BNNMT|2026-11-27", 6) is None


async def test_numbers_claimed_at_once_by_two_processes_are_all_different(database: AsyncDatabase[Document]) -> None:
    # With the adapter the server calls for (an `$inc` is atomic on MongoDB only); two stores are two processes.
    first, second = (Store(database).numbering(counters="counters", claims="claims", at_most=9999) for _ in "ab")
    claimed = await asyncio.gather(
        *(numbers.claim("BNNMT|2026-11-28", f"d-{n}") for n in range(20) for numbers in (first, second))
    )
    assert sorted(claimed) == list(range(1, 41))


def test_a_process_keeps_the_claims_state_of_the_most_recent_scopes_only() -> None:
    claims = _Claims()
    for n in range(KEPT_SCOPES * 3):
        claims.lock_of(f"BNNMT|day-{n}")
    assert len(claims.locks) == KEPT_SCOPES
    assert f"BNNMT|day-{KEPT_SCOPES * 3 - 1}" in claims.locks
