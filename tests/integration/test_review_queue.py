"""Both ways the store answers a desk queue give the same pages on the real server (one indexed query per page, by
MongoDB's adapter; a filtered in-memory copy of the agency's open dossiers kept current from the change log, by
FerretDB's), and a copy shows what another process has just written."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from hoso.changes import ChangeLog
from hoso.mongo import Document
from hoso.steps import Step
from hoso.store import Store
from hoso.store.ferretdb import FerretDBAdapter
from hoso.store.mongodb import MongoDBAdapter
from review.queue import TaskFilter, TaskQueue
from review.repository import INSTANCES, ReviewRepository


def indexed(database: AsyncDatabase[Document]) -> TaskQueue:
    return TaskQueue(ReviewRepository(Store(database, MongoDBAdapter())))


def copied(database: AsyncDatabase[Document], **options: Any) -> TaskQueue:
    """A queue of its own process (each has its own adapter, and so its own copies)."""
    return TaskQueue(ReviewRepository(Store(database, FerretDBAdapter()), **options))


def opening(doc: Document, _: Document | None) -> Step:
    """The step that writes `doc` as a new instance."""
    return Step(fields={k: v for k, v in doc.items() if k not in {"_id", "version", "outbox", "applied_events"}})


NOW = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
NAMES = ["Công ty Xi măng Sông Đà", "Hợp tác xã Thành Công", "Nguyễn Thị Lan", "CÔNG TY THÉP (MIỀN BẮC)", "Lê Văn A"]


def instances(count: int) -> list[Document]:
    pick = random.Random(20260610)
    docs = []
    for n in range(count):
        due = None if pick.random() < 0.2 else NOW + timedelta(hours=pick.randint(-200, 200))
        docs.append(
            {
                "_id": f"dossier-{n:04d}",
                "code": f"H22.{pick.choice(['12', '34'])}-2606{n % 28 + 1:02d}-{n:04d}",
                "agency_code": pick.choice(["BNNMT", "BNNMT", "BNNMT", "UBND.HN"]),
                "procedure_code": pick.choice(["MT-DTM-BO", "MT-GPMT-BO"]),
                "channel": pick.choice(["online", "online", "in_person", "post"]),
                "applicant": {"name": pick.choice(NAMES)},
                "actionable_roles": pick.sample(["reception_officer", "specialist", "leader"], pick.randint(0, 2)),
                "assignee_id": pick.choice([None, "cv-7", "cv-8"]),
                "status_code": pick.choice([1, 2, 4, 5, 9]),
                "terminal": pick.random() < 0.15,
                "due_at": due,
                "paused_at": None if pick.random() < 0.8 else NOW - timedelta(hours=pick.randint(1, 50)),
                # Some share an opening time, so ties are broken by id in both.
                "opened_at": NOW - timedelta(days=pick.randint(0, 30)),
                "version": 1,
                "outbox": [],
                "applied_events": ["e"],
            }
        )
    return docs


FILTERS: list[dict[str, Any]] = [
    {},
    {"role": "reception_officer"},
    {"role": "leader", "procedure": "MT-DTM-BO"},
    {"assignee": "cv-7"},
    {"status": 5},
    {"overdue": True},
    {"overdue": False},
    {"overdue": True, "role": "specialist"},
    {"channel": "post"},
    {"text": "xi MĂNG"},
    {"text": "(miền"},
    {"text": "2606"},
    {"text": ".*"},
    {"text": "  Lan "},
    {"procedure": "MT-GPMT-BO", "channel": "online", "overdue": False},
]


@pytest.mark.parametrize("agency", ["BNNMT", "UBND.HN", "NOBODY"])
async def test_the_in_memory_queue_answers_every_filter_as_the_indexed_query_does(
    database: AsyncDatabase[Document], agency: str
) -> None:
    await database[INSTANCES].insert_many(instances(240))
    by_index, by_copy = indexed(database), copied(database)
    for fields in FILTERS:
        wanted = TaskFilter(agency=agency, **fields)
        for skip, limit in ((0, 20), (20, 20), (0, 100), (230, 20)):
            expected, expected_total = await by_index.page(wanted, NOW, skip=skip, limit=limit)
            found, total = await by_copy.page(wanted, NOW, skip=skip, limit=limit)
            assert total == expected_total, fields
            assert [d["_id"] for d in found] == [d["_id"] for d in expected], (fields, skip)
    # The tab counts read the same open dossiers.
    assert sorted(d["_id"] for d in await by_copy.open_of_agency(agency)) == sorted(
        d["_id"] for d in await by_index.open_of_agency(agency)
    )
    if agency == "BNNMT":
        assert expected_total > 0


async def test_closed_dossiers_are_asked_of_the_database(database: AsyncDatabase[Document]) -> None:
    docs = instances(60)
    await database[INSTANCES].insert_many(docs)
    wanted = TaskFilter(agency="BNNMT", include_closed=True)
    found, total = await copied(database).page(wanted, NOW, skip=0, limit=100)
    assert total == sum(d["agency_code"] == "BNNMT" for d in docs)
    assert any(d["terminal"] for d in found)


async def test_a_page_shows_what_another_process_wrote_before_it_was_asked(database: AsyncDatabase[Document]) -> None:
    docs = [d | {"agency_code": "BNNMT", "terminal": False, "due_at": None} for d in instances(12)]
    there = ReviewRepository(Store(database, FerretDBAdapter()))  # another process
    for doc in docs:
        await there.transact(doc["_id"], partial(opening, doc))
    queue = copied(database)
    wanted = TaskFilter(agency="BNNMT")
    assert (await queue.page(wanted, NOW, skip=0, limit=50))[1] == 12

    # The other process closes one, assigns one and opens one of another agency and one of this agency.
    await there.transact(docs[0]["_id"], lambda _: Step(fields={"terminal": True}))
    await there.transact(docs[1]["_id"], lambda _: Step(fields={"assignee_id": "cv-9"}))
    elsewhere = {"agency_code": "UBND.HN", "terminal": False, "code": "X", "opened_at": NOW, "due_at": None}
    await there.transact("other", lambda _: Step(fields=elsewhere))
    fresh = instances(13)[12] | {"agency_code": "BNNMT", "terminal": False}
    await there.transact(fresh["_id"], partial(opening, fresh))

    found, total = await queue.page(wanted, NOW, skip=0, limit=50)
    ids = {d["_id"] for d in found}
    assert total == 12
    assert docs[0]["_id"] not in ids
    assert fresh["_id"] in ids
    assert "other" not in ids
    assert [
        d["_id"] for d in (await queue.page(TaskFilter(agency="BNNMT", assignee="cv-9"), NOW, skip=0, limit=5))[0]
    ] == [docs[1]["_id"]]
    # No change since: the page reads the log and nothing else.
    assert (await queue.page(wanted, NOW, skip=0, limit=50))[1] == 12


async def test_far_behind_the_copy_is_read_again_whole(database: AsyncDatabase[Document]) -> None:
    docs = [d | {"agency_code": "BNNMT", "terminal": False} for d in instances(30)]
    there = ReviewRepository(Store(database, FerretDBAdapter()))
    queue = copied(database, at_most=5)
    wanted = TaskFilter(agency="BNNMT")
    assert (await queue.page(wanted, NOW, skip=0, limit=50))[1] == 0
    for doc in docs:
        await there.transact(doc["_id"], partial(opening, doc))
    found, total = await queue.page(wanted, NOW, skip=0, limit=50)
    assert total == 30
    assert sorted(d["_id"] for d in found) == sorted(d["_id"] for d in docs)


async def test_concurrent_writers_fill_the_log_without_a_hole_and_a_reader_finds_every_change(
    database: AsyncDatabase[Document],
) -> None:
    writers = [ChangeLog(database["changes"]) for _ in range(4)]  # four processes
    reader = ChangeLog(database["changes"])
    start = await reader.end("BNNMT")
    assert start == 0
    slots = await asyncio.gather(*(writers[n % 4].append("BNNMT", f"d-{n}") for n in range(40)))
    assert sorted(slots) == list(range(1, 41))
    changes = await reader.since("BNNMT", 0, at_most=100)
    assert changes.position == 40
    assert sorted(changes.ids or []) == sorted(f"d-{n}" for n in range(40))
    assert (await reader.since("BNNMT", 40, at_most=100)).ids == []
    assert (await reader.since("BNNMT", 10, at_most=5)).ids is None
    # One document changed twice is read once.
    await writers[0].append("BNNMT", "d-1")
    await writers[1].append("BNNMT", "d-2")
    await writers[2].append("BNNMT", "d-1")
    assert (await reader.since("BNNMT", 40, at_most=100)) == type(changes)(["d-1", "d-2"], 43)
    assert (await reader.since("UBND.HN", 0, at_most=100)) == type(changes)([], 0)
