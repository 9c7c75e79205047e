"""Outbox invariants against the real broker and database (DESIGN.md section 3, rules 1 and 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from hoso.consumer import EventConsumer
from hoso.events import Envelope, EventType
from hoso.health import Readiness
from hoso.kafka import create_broker, ensure_topics, publish_event
from hoso.mongo import Document, ensure_indexes
from hoso.outbox import OutboxRelay, initial_outbox, with_outbox
from hoso.runtime import ProcessRole, Runtime, UndeclaredEvent
from hoso.settings import ServiceSettings
from hoso.store import Store
from hoso.topics import DOSSIER_EVENTS
from records.repository import INDEXES, RecordsRepository
from tests.integration.conftest import CommandLog
from tests.support import read_topic, records_handlers, submitted_event, unique, wait_consumed


def relay_for(database: AsyncDatabase[Document], broker: KafkaBroker, **options: Any) -> OutboxRelay:
    async def publish(topic: str, event: Envelope) -> None:
        await publish_event(broker, topic, event)

    table = Store(database).table("aggregates")
    return OutboxRelay(table, publish, service="tests", readiness=Readiness(), **options)


async def insert_aggregate(database: AsyncDatabase[Document], topic: str, events: list[Envelope]) -> None:
    await database["aggregates"].insert_one(
        {"_id": events[0].partitionkey, **initial_outbox([(topic, e) for e in events])}
    )


def follow_ups(first: Envelope, count: int) -> list[Envelope]:
    """Further events of the same dossier (copies of `first` with new ids)."""
    return [first.model_copy(update={"id": unique("evt")}) for _ in range(count)]


async def test_relay_publishes_each_entry_once_in_order_and_empties_the_outbox(
    database: AsyncDatabase[Document], broker: KafkaBroker, topic: str, kafka_bootstrap: str
) -> None:
    first = submitted_event()
    events = [first, *follow_ups(first, 2)]
    await insert_aggregate(database, topic, events)
    relay = relay_for(database, broker)

    assert await relay.drain() == 3
    assert await relay.drain() == 0

    records = await read_topic(kafka_bootstrap, topic, expect=3)
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [e.id for e in events]
    assert {r.key for r in records} == {first.partitionkey.encode()}
    assert {r.partition for r in records} == {records[0].partition}
    progress = await database["aggregates_outbox_progress"].find_one({"_id": first.partitionkey})
    assert progress is not None
    assert progress["sent"] == 3
    doc = await database["aggregates"].find_one({"_id": first.partitionkey})
    assert doc is not None
    assert [e["event_id"] for e in doc["outbox"]] == [e.id for e in events]  # the aggregate keeps its events


async def test_entries_appended_while_relaying_are_not_lost(
    database: AsyncDatabase[Document], broker: KafkaBroker, topic: str, kafka_bootstrap: str
) -> None:
    first = submitted_event()
    late = follow_ups(first, 1)[0]
    await insert_aggregate(database, topic, [first])
    aggregates = database["aggregates"]

    async def publish_and_write_meanwhile(t: str, event: Envelope) -> None:
        await publish_event(broker, t, event)
        if event.id == first.id:
            await aggregates.update_one({"_id": first.partitionkey}, with_outbox({"$set": {"x": 1}}, [(topic, late)]))

    table = Store(database).table("aggregates")
    relay = OutboxRelay(table, publish_and_write_meanwhile, service="tests", readiness=Readiness())
    assert await relay.drain() + await relay.drain() == 2
    assert await relay.drain() == 0

    records = await read_topic(kafka_bootstrap, topic, expect=2)
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [first.id, late.id]
    doc = await aggregates.find_one({"_id": first.partitionkey})
    assert doc is not None
    assert doc["outbox_rev"] == 2
    assert doc["x"] == 1


async def test_a_relay_looks_at_an_aggregates_progress_only_when_it_has_entries_not_known_published(
    logged: tuple[AsyncDatabase[Document], CommandLog], broker: KafkaBroker, topic: str, kafka_bootstrap: str
) -> None:
    database, commands = logged
    first = submitted_event()
    await insert_aggregate(database, topic, [first])
    relay = relay_for(database, broker)
    assert await relay.drain() == 1

    commands.sent.clear()
    assert await relay.drain() == 0
    assert await relay.drain_ids([first.partitionkey]) == 0
    assert commands.count("find", "aggregates_outbox_progress") == 0

    late = follow_ups(first, 1)[0]
    await database["aggregates"].update_one({"_id": first.partitionkey}, with_outbox({}, [(topic, late)]))
    commands.sent.clear()
    assert await relay.drain_ids([first.partitionkey]) == 1
    # One read of the aggregate, one of its progress: the entry is published from the aggregate read.
    assert commands.count("find", "aggregates") == 1
    assert commands.count("find", "aggregates_outbox_progress") == 1

    # Another relay (another process) that knows nothing reads the progress and publishes nothing again.
    assert await relay_for(database, broker).drain() == 0
    records = await read_topic(kafka_bootstrap, topic, expect=2)
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [first.id, late.id]


async def test_a_relay_starting_up_looks_only_at_aggregates_written_since_the_last_full_look(
    logged: tuple[AsyncDatabase[Document], CommandLog], broker: KafkaBroker, topic: str
) -> None:
    database, commands = logged
    old, new = submitted_event(), submitted_event()
    await insert_aggregate(database, topic, [old])
    await database["aggregates"].update_one(
        {"_id": old.partitionkey}, {"$set": {"outbox_at": datetime.now(UTC) - timedelta(hours=1)}}
    )
    assert await relay_for(database, broker).drain() == 1  # the very first look: every aggregate
    await insert_aggregate(database, topic, [new])

    commands.clear()
    assert await relay_for(database, broker).drain() == 1  # another process, started later
    assert commands.filters[0][0] == "aggregates_outbox_relay"
    progress_reads = [f for c, f in commands.filters if c == "aggregates_outbox_progress"]
    assert progress_reads == [{"_id": new.partitionkey}]


class CrashBeforeMark(Exception):
    """Stands for a relay process killed after publishing and before marking its entries sent."""


async def test_a_relay_dying_between_publish_and_mark_republishes_and_the_consumer_dedupes(
    database: AsyncDatabase[Document], broker: KafkaBroker, topic: str, kafka_bootstrap: str
) -> None:
    first = submitted_event()
    events = [first, *follow_ups(first, 2)]
    await insert_aggregate(database, topic, events)

    dying = relay_for(database, broker)

    async def crash(doc_id: object, sent: int) -> None:
        raise CrashBeforeMark()

    dying._record_progress = crash  # type: ignore[method-assign]
    with pytest.raises(CrashBeforeMark):
        await dying.drain()
    assert await relay_for(database, broker).drain() == 3

    records = await read_topic(kafka_bootstrap, topic, expect=6)
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [e.id for e in events] * 2

    # The records service consuming the topic keeps each event once, in order.
    repo = RecordsRepository(Store(database))
    await ensure_indexes(database, INDEXES)
    group = unique("records")
    consumer_broker = create_broker(kafka_bootstrap, client_id="tests-records")
    EventConsumer(
        service="records",
        broker=consumer_broker,
        readiness=Readiness(),
        topics=[topic],
        handlers=records_handlers(repo),
        group_id=group,
    ).register()
    await consumer_broker.start()
    try:
        await wait_consumed(kafka_bootstrap, group, topic)
    finally:
        await consumer_broker.stop()
    timeline = await repo.timeline_of(first.subject)
    assert [entry["_id"] for entry in timeline] == [e.id for e in events]
    assert [entry["sequence"] for entry in timeline] == [1, 2, 3]


async def test_a_service_publishes_only_the_event_types_its_outbox_declares(
    mongo_url: str, database: AsyncDatabase[Document], kafka_bootstrap: str
) -> None:
    prefix = unique("declared") + "."
    settings = ServiceSettings(
        mongodb_url=mongo_url,
        mongodb_database=database.name,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=prefix,
    )
    runtime = Runtime(settings, ProcessRole.API)
    relay = runtime.add_outbox(runtime.store.table("aggregates"), emits=[EventType.DOSSIER_SUBMITTED])
    # The declared type's topic is one the runtime creates at start-up.
    assert runtime.topics == [prefix + DOSSIER_EVENTS]
    await ensure_topics(kafka_bootstrap, runtime.topics, partitions=3)
    first = submitted_event()
    stray = first.model_copy(update={"id": unique("evt"), "type": EventType.DOSSIER_MESSAGE_SENT})
    await insert_aggregate(database, DOSSIER_EVENTS, [first, stray])
    await runtime.broker.start()
    try:
        with pytest.raises(UndeclaredEvent, match=r"vn\.gov\.hoso\.dossier\.message_sent\.v1"):
            await relay.drain()
    finally:
        await runtime.broker.stop()
        await runtime.mongo.close()

    records = await read_topic(kafka_bootstrap, prefix + DOSSIER_EVENTS, expect=1)
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [first.id]
    progress = await database["aggregates_outbox_progress"].find_one({"_id": first.partitionkey})
    assert progress is None  # nothing of the aggregate is marked sent: the stray entry stays, and so does the first
