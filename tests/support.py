"""Helpers shared by the integration, e2e and reliability tests."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from hoso.consumer import BatchHandler, EventHandler
from hoso.events import Envelope, EventType, PublicStatus, new_event
from hoso.events.catalog import Applicant, DeadlineTerms, DossierSubmitted
from hoso.kafka import topic_partitions
from records.archive import ArchivePolicy, Archiver, DropFolderExporter
from records.consumers import batch_handler, event_handlers
from records.repository import RecordsRepository


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


EIA_DEADLINE = DeadlineTerms(amount=45, unit="calendar_days")


def submitted_event(
    dossier_id: str | None = None,
    *,
    agency: str = "BNNMT",
    sequence: int = 1,
    procedure_code: str = "MT-DTM-BO",
    procedure_version: str = "2025-03",
    deadline: DeadlineTerms | None = EIA_DEADLINE,
    supplement_policy: Literal["pause", "reset"] = "pause",
    day: str = "261127",
    applicant_name: str = "Nguyễn Văn An",
) -> Envelope:
    """A `dossier.submitted` of an EIA appraisal as intake emits it (45 calendar days, pause on supplement)."""
    dossier_id = dossier_id or str(uuid.uuid4())
    data = DossierSubmitted(
        dossier_id=dossier_id,
        dossier_code=f"{agency}-{day}-{sequence:04d}",
        procedure_code=procedure_code,
        agency_code=agency,
        status_code=PublicStatus.NEW,
        procedure_version=procedure_version,
        applicant=Applicant(id="citizen-1", name=applicant_name, email="an@example.vn"),
        submitted_at=datetime.now(UTC),
        deadline=deadline,
        supplement_policy=supplement_policy,
        supplement_deadline=DeadlineTerms(amount=30, unit="calendar_days"),
    )
    return new_event(EventType.DOSSIER_SUBMITTED, data, service="intake")


async def read_topic(
    kafka_bootstrap: str, topic: str, *, expect: int, timeout: float = 20.0
) -> list[ConsumerRecord[Any, Any]]:
    """Everything on `topic` up to its end, waiting up to `timeout` for at least `expect` records to be there."""
    from aiokafka import TopicPartition

    partitions = [TopicPartition(topic, p) for p in await topic_partitions(kafka_bootstrap, topic)]
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            end = await consumer.end_offsets(partitions)
            while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
                batch = await consumer.getmany(timeout_ms=1000)
                records.extend(r for rs in batch.values() for r in rs)
            if len(records) >= expect or loop.time() >= deadline:
                return records
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 20.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout}s")


async def wait_consumed(kafka_bootstrap: str, group: str, topic: str, *, timeout: float = 30.0) -> None:
    """Wait until `group` has committed every record of `topic`: all of it was applied or dead-lettered."""
    from aiokafka import TopicPartition

    probe = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await probe.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await topic_partitions(kafka_bootstrap, topic)]
        assert partitions, f"topic {topic} does not exist"
        end = await probe.end_offsets(partitions)

        async def done() -> bool:
            for tp in partitions:
                if end[tp] and (await probe.committed(tp) or 0) < end[tp]:
                    return False
            return True

        await eventually(done, timeout=timeout, what=f"group {group} consuming {topic}")
    finally:
        await probe.stop()


def _throwaway_archiver(repo: RecordsRepository) -> Archiver:
    return Archiver(repo, DropFolderExporter(Path(tempfile.mkdtemp())), ArchivePolicy(1, 1, 60), 1)


def records_handlers(repo: RecordsRepository) -> Mapping[EventType, EventHandler]:
    """Records' event handlers, archiving ended dossiers into a throw-away drop folder."""
    return event_handlers(repo, _throwaway_archiver(repo))


def records_batch_handler(repo: RecordsRepository) -> BatchHandler:
    """Records' batch handler, archiving ended dossiers into a throw-away drop folder."""
    return batch_handler(repo, _throwaway_archiver(repo))
