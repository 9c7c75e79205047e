"""The in-memory queue's freshness: when it reads again, what a page waits for, and what a slow read may not undo."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from hoso.mongo import Document
from review.queue import READS_APART, SnapshotQueue, TaskFilter
from review.repository import ReviewRepository

NOW = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
WANTED = TaskFilter(agency="BNNMT")


def doc(n: int, version: int = 1, **fields: Any) -> Document:
    return {"_id": f"d{n}", "agency_code": "BNNMT", "terminal": False, "version": version, "code": f"C{n}"} | fields


class Repo:
    """What the queue reads: the agency's open dossiers, as the database holds them now."""

    def __init__(self) -> None:
        self.held: dict[str, Document] = {}
        self.reads = 0
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def open_tasks_of_agency(self, agency: str) -> list[Document]:
        self.reads += 1
        snapshot = [dict(d) for d in self.held.values() if d["agency_code"] == agency and not d["terminal"]]
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("the database went away")
        return snapshot


def queue(repo: Repo, ticks: list[float], **options: Any) -> SnapshotQueue:
    return SnapshotQueue(cast(ReviewRepository, repo), clock=lambda: ticks[0], **options)


async def codes(q: SnapshotQueue) -> list[str]:
    found, _ = await q.page(WANTED, NOW, skip=0, limit=100)
    return sorted(d["code"] for d in found)


async def test_a_copy_is_read_again_only_once_it_is_old_and_never_older_than_max_age() -> None:
    repo, ticks = Repo(), [0.0]
    repo.held = {"d1": doc(1)}
    q = queue(repo, ticks, max_age=30)
    assert await codes(q) == ["C1"]
    repo.held["d2"] = doc(2)
    # The first read took no time on this clock, so any later page reads again.
    ticks[0] = 0.001
    assert await codes(q) == ["C1", "C2"]
    assert repo.reads == 2


async def test_a_slow_read_is_waited_for_briefly_then_the_page_answers_from_the_copy_in_hand() -> None:
    repo, ticks = Repo(), [0.0]
    repo.held = {"d1": doc(1)}
    q = queue(repo, ticks, max_age=5, wait=0.05)
    assert await codes(q) == ["C1"]
    repo.held["d2"] = doc(2)
    repo.gate = asyncio.Event()
    ticks[0] = 6.0
    assert await codes(q) == ["C1"]  # answered after `wait`, not after the read
    assert await codes(q) == ["C1"]  # one read in flight, not one per page
    assert repo.reads == 2
    repo.gate.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert await codes(q) == ["C1", "C2"]


async def test_a_read_that_began_before_this_process_wrote_does_not_undo_the_write() -> None:
    repo, ticks = Repo(), [0.0]
    repo.held = {"d1": doc(1), "d2": doc(2)}
    q = queue(repo, ticks, max_age=5, wait=0)
    await codes(q)
    repo.gate = asyncio.Event()
    ticks[0] = 6.0
    await codes(q)  # a read starts, and sees d1 open
    ticks[0] = 6.5
    q.saw(doc(1, version=2, terminal=True))  # this process closes d1 meanwhile
    assert await codes(q) == ["C2"]
    repo.gate.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert await codes(q) == ["C2"]
    # An older version seen later changes nothing either.
    q.saw(doc(1, version=1))
    assert await codes(q) == ["C2"]


async def test_the_read_again_stays_apart_by_a_multiple_of_what_the_last_one_took() -> None:
    repo, ticks = Repo(), [0.0]
    repo.held = {"d1": doc(1)}

    async def slow(agency: str) -> list[Document]:
        ticks[0] += 2.0  # the read takes 2 s
        return await Repo.open_tasks_of_agency(repo, agency)

    repo.open_tasks_of_agency = slow  # type: ignore[method-assign]
    q = queue(repo, ticks, max_age=3600)
    await codes(q)
    # Counted from when the last read began.
    ticks[0] = READS_APART * 2.0 - 1
    await codes(q)
    assert repo.reads == 1
    ticks[0] = READS_APART * 2.0 + 1
    await codes(q)
    assert repo.reads == 2


async def test_a_failed_read_keeps_the_copy_in_hand_and_the_first_read_fails_loudly() -> None:
    repo, ticks = Repo(), [0.0]
    repo.held = {"d1": doc(1)}
    q = queue(repo, ticks, max_age=5)
    assert await codes(q) == ["C1"]
    repo.fail = True
    ticks[0] = 6.0
    assert await codes(q) == ["C1"]
    repo.fail = False
    assert await codes(q) == ["C1"]  # and the next page reads again
    assert repo.reads == 3

    failing = Repo()
    failing.fail = True
    with pytest.raises(ConnectionError):
        await codes(queue(failing, ticks))
