"""The step store (how FerretDB's adapter keeps versioned documents) on the real database: no lost update among
concurrent writers, no step lost in a crash. What every adapter's versioned table promises is in test_store_contract."""

from __future__ import annotations

import asyncio

from pymongo.asynchronous.database import AsyncDatabase

from hoso.mongo import Document, bson_now
from hoso.steps import Step
from hoso.store import Store
from hoso.store.ferretdb import FerretDBAdapter
from hoso.versioned import StepStore, step_id
from tests.integration.conftest import CommandLog
from tests.support import submitted_event


async def counts_of(store: StepStore, doc_id: str) -> list[int]:
    """The `count` each step of the document set, in order."""
    return [s["fields"]["count"] async for s in store.steps.find({"doc_id": doc_id}, sort=[("version", 1)])]


async def test_concurrent_writers_of_one_document_lose_no_update(database: AsyncDatabase[Document]) -> None:
    store = steps_of(database, "counters", attempts=200)

    def increment(doc: Document | None) -> Step:
        return Step(fields={"count": (doc or {}).get("count", 0) + 1})

    await asyncio.gather(*(store.transact("d-1", increment) for _ in range(20)))
    doc = await store.get("d-1")
    assert doc is not None
    assert doc["count"] == 20
    assert doc["version"] == 20
    assert await counts_of(store, "d-1") == list(range(1, 21))


async def test_a_step_written_by_a_writer_that_died_before_updating_the_document_is_applied_by_the_next_reader(
    database: AsyncDatabase[Document],
) -> None:
    store = steps_of(database, "instances")
    await store.transact("d-2", lambda doc: Step(fields={"state": "open"}))
    event = submitted_event("d-2")
    # The writer inserted version 2 and its event, then died before writing the document.
    await store.steps.insert_one(
        {
            "_id": step_id("d-2", 2),
            "doc_id": "d-2",
            "version": 2,
            "at": bson_now(),
            "fields": {"state": "received"},
            "events": [{"event_id": event.id, "topic": "t", "envelope": event.model_dump_json()}],
            "applies_event": None,
            "record": {},
        }
    )
    cached = await store.collection.find_one({"_id": "d-2"})
    assert cached is not None
    assert cached["version"] == 1
    assert await store.repair([cached]) == 1
    repaired = await store.collection.find_one({"_id": "d-2"})
    assert repaired is not None
    assert repaired["state"] == "received"
    assert repaired["outbox_rev"] == 1
    assert repaired["outbox"][0]["event_id"] == event.id
    # A redelivered event recorded by a step is recognised.
    applied, changed = await store.transact(
        "d-2", lambda doc: None if doc and "e-1" in doc["applied_events"] else Step(fields={}, applies_event="e-1")
    )
    again, changed_again = await store.transact(
        "d-2", lambda doc: None if doc and "e-1" in doc["applied_events"] else Step(fields={}, applies_event="e-1")
    )
    assert changed
    assert not changed_again
    assert again == applied


async def test_repair_from_a_projection_keeps_the_events_already_in_the_outbox(
    database: AsyncDatabase[Document],
) -> None:
    store = steps_of(database, "instances")
    first, second = submitted_event("d-3"), submitted_event("d-3")
    await store.transact("d-3", lambda doc: Step(fields={"state": "open"}, events=[("t", first)]))
    await store.steps.insert_one(
        {
            "_id": step_id("d-3", 2),
            "doc_id": "d-3",
            "version": 2,
            "at": bson_now(),
            "fields": {"state": "received"},
            "events": [{"event_id": second.id, "topic": "t", "envelope": second.model_dump_json()}],
            "applies_event": None,
            "record": {},
        }
    )
    projected = await store.collection.find_one({"_id": "d-3"}, projection={"outbox": 0})
    assert projected is not None
    assert await store.repair([projected]) == 1
    repaired = await store.collection.find_one({"_id": "d-3"})
    assert repaired is not None
    assert [e["event_id"] for e in repaired["outbox"]] == [first.id, second.id]
    assert repaired["outbox_rev"] == 2


def steps_of(database: AsyncDatabase[Document], name: str, attempts: int = 50) -> StepStore:
    return StepStore(Store(database, FerretDBAdapter()).table(name), attempts=attempts)


def died_after_step(doc_id: str, version: int, fields: Document, applies: str | None = None) -> Document:
    """Step `version` as a writer that died before writing the document leaves it."""
    return {
        "_id": step_id(doc_id, version),
        "doc_id": doc_id,
        "version": version,
        "at": bson_now(),
        "fields": fields,
        "events": [],
        "applies_event": applies,
        "record": {},
    }


async def test_a_write_on_an_up_to_date_document_does_not_look_for_steps_after_it(
    logged: tuple[AsyncDatabase[Document], CommandLog],
) -> None:
    database, commands = logged
    store = steps_of(database, "counters")
    await store.transact("d-4", lambda doc: Step(fields={"count": 1}))
    commands.sent.clear()
    doc, changed = await store.transact("d-4", lambda doc: Step(fields={"count": (doc or {})["count"] + 1}))
    assert changed
    assert doc is not None
    assert doc["count"] == 2
    assert commands.count("find", "counters_steps") == 0
    assert commands.count("insert", "counters_steps") == 1

    # Given the copy it has just written, a caller's next step reads nothing but the version check of its write.
    commands.sent.clear()
    doc, changed = await store.transact("d-4", lambda d: Step(fields={"count": (d or {})["count"] + 1}), cached=doc)
    assert changed
    assert doc is not None
    assert (doc["version"], doc["count"]) == (3, 3)
    assert commands.count("find", "counters") == 1  # the version compared before the document is replaced
    assert commands.count("find", "counters_steps") == 0


async def test_a_step_decided_on_a_copy_behind_its_steps_is_decided_again_on_the_caught_up_document(
    database: AsyncDatabase[Document],
) -> None:
    store = steps_of(database, "counters")
    await store.transact("d-5", lambda doc: Step(fields={"count": 1}))
    await store.steps.insert_one(died_after_step("d-5", 2, {"count": 2}))
    seen: list[int] = []

    def increment(doc: Document | None) -> Step:
        seen.append((doc or {}).get("count", 0))
        return Step(fields={"count": (doc or {}).get("count", 0) + 1})

    doc, changed = await store.transact("d-5", increment)
    assert changed
    assert doc is not None
    assert (doc["version"], doc["count"]) == (3, 3)
    assert seen == [1, 2]
    assert await counts_of(store, "d-5") == [1, 2, 3]


async def test_doing_nothing_and_refusing_are_decided_on_the_caught_up_document(
    database: AsyncDatabase[Document],
) -> None:
    store = steps_of(database, "dossiers")
    await store.transact("d-6", lambda doc: Step(fields={"state": "closed"}))
    # Reopened, applying event e-1, by a writer that died before writing the document.
    await store.steps.insert_one(died_after_step("d-6", 2, {"state": "open"}, applies="e-1"))

    def apply_once(doc: Document | None) -> Step | None:
        return None if doc and "e-1" in doc["applied_events"] else Step(fields={"note": "x"}, applies_event="e-1")

    doc, changed = await store.transact("d-6", apply_once)
    assert not changed
    assert doc is not None
    assert doc["version"] == 2

    await store.steps.insert_one(died_after_step("d-6", 3, {"state": "closed"}))
    await store.steps.insert_one(died_after_step("d-6", 4, {"state": "open"}))

    def refuse_when_closed(doc: Document | None) -> Step:
        if doc is None or doc["state"] == "closed":
            raise ValueError("closed")
        return Step(fields={"state": "review"})

    await store.collection.update_one({"_id": "d-6"}, {"$set": {"state": "closed", "version": 3}})
    doc, changed = await store.transact("d-6", refuse_when_closed)
    assert changed
    assert doc is not None
    assert (doc["version"], doc["state"]) == (5, "review")


async def test_creating_many_at_once_leaves_existing_documents_and_brings_a_died_writers_one_up(
    database: AsyncDatabase[Document],
) -> None:
    store = steps_of(database, "deliveries")
    woken: list[str] = []
    store.on_events = woken.append
    await store.transact("d-7", lambda doc: Step(fields={"state": "first"}))
    await store.steps.insert_one(died_after_step("d-8", 1, {"state": "first"}))
    event = submitted_event("d-9")
    steps = {i: Step(fields={"state": "second"}) for i in ("d-7", "d-8")}
    steps["d-9"] = Step(fields={"state": "second"}, events=[("t", event)])

    assert await store.create_many(steps) == ["d-9"]
    assert await store.create_many(steps) == []

    docs = {d["_id"]: d async for d in store.collection.find({})}
    assert {i: (d["version"], d["state"]) for i, d in docs.items()} == {
        "d-7": (1, "first"),
        "d-8": (1, "first"),
        "d-9": (1, "second"),
    }
    assert docs["d-9"]["outbox_rev"] == 1
    assert woken == ["d-9"]


async def test_a_documents_history_is_kept_on_it(
    logged: tuple[AsyncDatabase[Document], CommandLog],
) -> None:
    database, commands = logged
    store = steps_of(database, "instances")
    for state in ("open", "received", "closed"):
        await store.transact("d-10", lambda doc, s=state: Step(fields={"state": s}, record={"to": s}))
    await store.transact("d-10", lambda doc: Step(fields={"note": "x"}))  # no record: not history
    doc = await store.get("d-10")
    assert doc is not None

    commands.clear()
    history = await store.history(doc)
    assert [(h["version"], h["record"]["to"]) for h in history] == [(1, "open"), (2, "received"), (3, "closed")]
    assert commands.sent == []


async def test_rewriting_a_documents_steps_leaves_what_was_erased_in_none_of_them_and_no_other_documents_step(
    database: AsyncDatabase[Document],
) -> None:
    store = steps_of(database, "deliveries")
    first = Step(fields={"to": "an@example.vn"}, record={"to": "an@example.vn"})
    second = Step(fields={"status": "sent"}, record={"detail": "250 an@example.vn"})
    for doc_id in ("d-20", "d-2", "d-20x"):  # ids that share a beginning
        await store.transact(doc_id, lambda doc: first)
        await store.transact(doc_id, lambda doc: second)

    def scrub(step: Document) -> Document:
        return {**step, "fields": {k: ("***" if v == "an@example.vn" else v) for k, v in step["fields"].items()},
                "record": {k: v.replace("an@example.vn", "***") for k, v in step["record"].items()}}  # fmt: skip

    assert await store.rewrite_steps("d-20", scrub) == 2
    assert await store.rewrite_steps("d-20", scrub) == 0  # done already
    left = [s async for s in store.steps.find({"doc_id": "d-20"}, sort=[("version", 1)])]
    assert [(s["version"], s["fields"], s["record"]) for s in left] == [
        (1, {"to": "***"}, {"to": "***"}),
        (2, {"status": "sent"}, {"detail": "250 ***"}),
    ]
    others = [s async for s in store.steps.find({"doc_id": {"$in": ["d-2", "d-20x"]}})]
    assert len(others) == 4
    assert all("an@example.vn" in str([s["fields"], s["record"]]) for s in others)
    doc = await store.get("d-20")  # the document itself is the caller's to change, by a step of its own
    assert doc is not None
    assert doc["version"] == 2
