"""Consumer invariants against the real broker (DESIGN.md section 3, rules 2, 3 and 4)."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import pytest
from aiokafka import AIOKafkaProducer
from pymongo.asynchronous.database import AsyncDatabase

from hoso.consumer import EventConsumer, EventHandler
from hoso.dlq import list_dead_letters, replay_dead_letters
from hoso.events import Envelope, EventType, to_kafka
from hoso.health import Readiness
from hoso.kafka import create_broker, ensure_topics
from hoso.mongo import Document, ensure_indexes
from hoso.store import Store
from hoso.topics import dlq_topic, retry_topic
from records.repository import INDEXES, RecordsRepository
from tests.support import read_topic, records_handlers, submitted_event, unique, wait_consumed

Start = Callable[[Mapping[EventType, EventHandler]], Awaitable[str]]


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all")
    await p.start()
    yield p
    await p.stop()


@pytest.fixture
async def repo(database: AsyncDatabase[Document]) -> RecordsRepository:
    await ensure_indexes(database, INDEXES)
    return RecordsRepository(Store(database))


@pytest.fixture
async def service(kafka_bootstrap: str, topic: str) -> AsyncIterator[Start]:
    """Starts a consumer named `records` on the test topic with the given handlers; returns its group."""
    brokers = []
    service_name = unique("svc")
    await ensure_topics(
        kafka_bootstrap,
        [dlq_topic(topic, service_name), retry_topic(topic, service_name)],
        partitions=3,
    )

    async def start(handlers: Mapping[EventType, EventHandler]) -> str:
        broker = create_broker(kafka_bootstrap, client_id=service_name)
        group = unique("group")
        EventConsumer(
            service=service_name,
            broker=broker,
            readiness=Readiness(),
            topics=[topic],
            handlers=handlers,
            group_id=group,
            max_attempts=2,
            initial_backoff=0.05,
        ).register()
        await broker.start()
        brokers.append(broker)
        start.service = service_name  # type: ignore[attr-defined]
        return group

    yield start
    for broker in brokers:
        await broker.stop()


async def send(producer: AIOKafkaProducer, topic: str, event: Envelope) -> None:
    key, value, headers = to_kafka(event)
    await producer.send_and_wait(topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()])


async def test_a_redelivered_event_changes_nothing(
    producer: AIOKafkaProducer, topic: str, repo: RecordsRepository, service: Start, kafka_bootstrap: str
) -> None:
    event = submitted_event()
    for _ in range(3):
        await send(producer, topic, event)
    group = await service(records_handlers(repo))
    await wait_consumed(kafka_bootstrap, group, topic)

    assert await repo.timeline.count({"dossier_id": event.partitionkey}) == 1
    summary = await repo.dossiers.find_one({"_id": event.partitionkey})
    assert summary is not None
    assert summary["applied_events"] == [event.id]


async def test_a_batch_keeps_each_dossiers_order_while_dossiers_are_applied_concurrently(
    producer: AIOKafkaProducer, topic: str, service: Start, kafka_bootstrap: str
) -> None:
    dossiers = [str(uuid.uuid4()) for _ in range(8)]
    produced: dict[str, list[str]] = {d: [] for d in dossiers}
    for _ in range(6):
        for dossier in dossiers:
            event = submitted_event(dossier)
            produced[dossier].append(event.id)
            await send(producer, topic, event)
    applied: dict[str, list[str]] = {d: [] for d in dossiers}
    in_flight: dict[str, int] = {}
    most_at_once = 0

    async def slow_handler(event: Envelope) -> None:
        nonlocal most_at_once
        dossier = event.partitionkey
        assert in_flight.get(dossier, 0) == 0, "two events of one dossier applied at once"
        in_flight[dossier] = 1
        most_at_once = max(most_at_once, sum(in_flight.values()))
        await asyncio.sleep(random.uniform(0, 0.02))
        applied[dossier].append(event.id)
        in_flight[dossier] = 0

    group = await service({EventType.DOSSIER_SUBMITTED: slow_handler})
    await wait_consumed(kafka_bootstrap, group, topic)

    assert applied == produced
    assert most_at_once > 1


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"\x00\x9f garbage", [("ce_id", b"x1"), ("ce_type", b"vn.gov.hoso.dossier.submitted.v1")], "unparseable"),
        (
            b'{"dossier_id": "d"}',
            [("ce_id", b"x2"), ("ce_type", b"vn.gov.hoso.dossier.submitted.v1")],
            "schema-invalid",
        ),
        (b"{}", [("ce_id", b"x3"), ("ce_type", b"vn.gov.hoso.dossier.teleported.v1")], "unknown-type"),
        (b"{}", [], "unparseable"),
    ],
)
async def test_a_poison_message_is_dead_lettered_with_its_reason_and_the_next_one_is_processed(
    producer: AIOKafkaProducer,
    topic: str,
    repo: RecordsRepository,
    service: Start,
    kafka_bootstrap: str,
    value: bytes,
    headers: list[tuple[str, bytes]],
    reason: str,
) -> None:
    good = submitted_event()
    # Same key: the poison sits in front of the good event on the same partition.
    await producer.send_and_wait(topic, value, key=good.partitionkey.encode(), headers=headers)
    await send(producer, topic, good)
    group = await service(records_handlers(repo))
    await wait_consumed(kafka_bootstrap, group, topic)

    assert await repo.timeline.count({"_id": good.id}) == 1
    svc = service.service  # type: ignore[attr-defined]
    letters = await read_topic(kafka_bootstrap, dlq_topic(topic, svc), expect=1)
    assert len(letters) == 1
    dead = dict(letters[0].headers)
    assert dead["dlq_reason"].decode() == reason
    assert dead["dlq_original_topic"].decode() == topic
    assert dead["dlq_error"]
    assert letters[0].value == value
    listed = await list_dead_letters(kafka_bootstrap, svc, topic)
    assert [(d.summary()["reason"], d.replayed) for d in listed] == [(reason, False)]


async def test_a_transient_fault_is_retried_not_dead_lettered(
    producer: AIOKafkaProducer, topic: str, service: Start, kafka_bootstrap: str
) -> None:
    event = submitted_event()
    calls: list[str] = []

    async def flaky(e: Envelope) -> None:
        calls.append(e.id)
        if len(calls) < 4:
            raise ConnectionResetError("database connection lost")

    await send(producer, topic, event)
    group = await service({EventType.DOSSIER_SUBMITTED: flaky})
    await wait_consumed(kafka_bootstrap, group, topic)

    assert calls == [event.id] * 4  # more than max_attempts: transient faults do not count
    assert await read_topic(kafka_bootstrap, dlq_topic(topic, service.service), expect=0, timeout=2) == []  # type: ignore[attr-defined]


async def test_a_dead_letter_replayed_after_a_fix_is_applied_once(
    producer: AIOKafkaProducer, topic: str, repo: RecordsRepository, service: Start, kafka_bootstrap: str
) -> None:
    event = submitted_event()
    fixed = False
    handlers = records_handlers(repo)

    async def buggy_then_fixed(e: Envelope) -> None:
        if not fixed:
            raise ValueError("a bug in the handler")
        await handlers[EventType.DOSSIER_SUBMITTED](e)

    await send(producer, topic, event)
    group = await service({EventType.DOSSIER_SUBMITTED: buggy_then_fixed})
    await wait_consumed(kafka_bootstrap, group, topic)
    svc = service.service  # type: ignore[attr-defined]
    [letter] = await list_dead_letters(kafka_bootstrap, svc, topic)
    assert letter.summary()["reason"] == "handler-error"
    assert "a bug in the handler" in letter.summary()["error"]
    assert await repo.timeline.count({}) == 0

    fixed = True
    assert await replay_dead_letters(kafka_bootstrap, svc, topic) == 1
    assert await replay_dead_letters(kafka_bootstrap, svc, topic) == 0
    await wait_consumed(kafka_bootstrap, group, retry_topic(topic, svc))

    assert await repo.timeline.count({"_id": event.id}) == 1
    [letter] = await list_dead_letters(kafka_bootstrap, svc, topic)
    assert letter.replayed
    replayed = await read_topic(kafka_bootstrap, retry_topic(topic, svc), expect=1)
    assert json.loads(replayed[0].value)["dossier_id"] == event.partitionkey
    assert not any(k.startswith("dlq_") for k, _ in replayed[0].headers)
