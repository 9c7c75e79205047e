"""Both ways review answers a desk queue give the same pages on the real server: one indexed query per page
(MongoDB) and a filtered in-memory copy of the agency's open dossiers (FerretDB v1)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from hoso.mongo import Document
from hoso.versioned import Step
from review.queue import IndexedQueue, SnapshotQueue, TaskFilter
from review.repository import ReviewRepository

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
    repo = ReviewRepository(database)
    await repo.instances.insert_many(instances(240))
    indexed, snapshot = IndexedQueue(repo), SnapshotQueue(repo)
    for fields in FILTERS:
        wanted = TaskFilter(agency=agency, **fields)
        for skip, limit in ((0, 20), (20, 20), (0, 100), (230, 20)):
            expected, expected_total = await indexed.page(wanted, NOW, skip=skip, limit=limit)
            found, total = await snapshot.page(wanted, NOW, skip=skip, limit=limit)
            assert total == expected_total, fields
            assert [d["_id"] for d in found] == [d["_id"] for d in expected], (fields, skip)
    # The tab counts read the same open dossiers.
    assert sorted(d["_id"] for d in await snapshot.open_of_agency(agency)) == sorted(
        d["_id"] for d in await indexed.open_of_agency(agency)
    )
    if agency == "BNNMT":
        assert expected_total > 0


async def test_closed_dossiers_are_asked_of_the_database(database: AsyncDatabase[Document]) -> None:
    repo = ReviewRepository(database)
    docs = instances(60)
    await repo.instances.insert_many(docs)
    wanted = TaskFilter(agency="BNNMT", include_closed=True)
    found, total = await SnapshotQueue(repo).page(wanted, NOW, skip=0, limit=100)
    assert total == sum(d["agency_code"] == "BNNMT" for d in docs)
    assert any(d["terminal"] for d in found)


async def test_a_write_of_this_process_shows_at_once_and_one_of_another_once_the_copy_is_read_again(
    database: AsyncDatabase[Document],
) -> None:
    repo = ReviewRepository(database)
    docs = [d | {"agency_code": "BNNMT", "terminal": False} for d in instances(10)]
    await repo.instances.insert_many(docs)
    ticks = [0.0]
    queue = SnapshotQueue(repo, max_age=60, wait=5, clock=lambda: ticks[0])
    repo.on_write(queue.saw)
    wanted = TaskFilter(agency="BNNMT")
    assert (await queue.page(wanted, NOW, skip=0, limit=50))[1] == 10

    # This process closes one: it leaves the queue at once.
    closed, written = await repo.transact(docs[0]["_id"], lambda _: Step(fields={"terminal": True}))
    assert written
    assert closed is not None
    assert closed["terminal"]
    found, total = await queue.page(wanted, NOW, skip=0, limit=50)
    assert total == 9
    assert docs[0]["_id"] not in {d["_id"] for d in found}

    # Another process opens one: the copy in hand does not have it yet; once it is old enough it does, and the
    # copy read again does not bring back the one this process closed.
    await database["instances"].insert_one(instances(11)[10] | {"agency_code": "BNNMT", "terminal": False})
    assert (await queue.page(wanted, NOW, skip=0, limit=50))[1] == 9
    ticks[0] = 61.0
    found, total = await queue.page(wanted, NOW, skip=0, limit=50)
    assert total == 10
    assert "dossier-0010" in {d["_id"] for d in found}
    assert docs[0]["_id"] not in {d["_id"] for d in found}
