"""The yardstick of the platform benchmark: the minimal operations of the lifecycle the platform ran, replayed.

For each event of each dossier the platform handled (as records' timeline holds them: type and producing service),
the replay makes one write by its producer with its outbox entry and one produce; and for each service that consumes
that event type (the services' own subscriptions) one consume and one idempotent write. No business logic: the same
concurrency (dossiers at once; each consumer applies a batch's records concurrently, as the services do), the same
Kafka and the same database server, in databases and topics of its own.

`counters()` reads what the servers themselves count: FerretDB's `ferretdb_client_requests_total` by command (its
debug address, `HOSO_FERRETDB_DEBUG_ADDR`) and the end offsets of every Kafka topic, so a phase's database commands
and Kafka messages are a difference of two readings.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo.asynchronous.database import AsyncDatabase

from hoso.apidocs import wired
from hoso.events import EventType
from hoso.events.catalog import topic_of
from hoso.kafka import ensure_topics
from hoso.mongo import Document, create_client
from hoso.topics import DOSSIER_EVENTS, NOTIFICATION_EVENTS, SERVICES

_REQUESTS = re.compile(r'^ferretdb_client_requests_total\{command="([^"]+)",opcode="[^"]+"\} (\d+)', re.M)


def subscriptions() -> dict[str, tuple[list[str], set[EventType]]]:
    """Each service's topics and the event types it applies, read from its own consumer wiring."""
    found = {}
    for service in SERVICES:
        consumer = wired(service).consumer
        assert consumer is not None
        found[service] = (consumer.topics, set(consumer.applied_types))
    return found


@dataclass(frozen=True)
class Counters:
    commands: Counter[str]
    messages: int

    def since(self, before: Counters) -> dict[str, Any]:
        commands = self.commands - before.commands
        return {"database_commands": sum(commands.values()), "by_command": dict(commands.most_common(8)),
                "kafka_messages": self.messages - before.messages}  # fmt: skip


async def counters(debug_addr: str, bootstrap: str) -> Counters:
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"http://{debug_addr}/debug/metrics")).text
    commands = Counter({name: int(n) for name, n in _REQUESTS.findall(text)})
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        described = await admin.describe_topics(await admin.list_topics())
    finally:
        await admin.close()
    # Consumers' offset commits (`__consumer_offsets`) are not the platform's messages.
    topics = [t for t in described if t.get("error_code", 0) == 0 and not t["is_internal"]]
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in topics for p in t["partitions"]]
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await probe.start()
    try:
        ends = await probe.end_offsets(partitions) if partitions else {}
    finally:
        await probe.stop()
    return Counters(commands, sum(ends.values()))


async def lifecycles(records: AsyncDatabase[Document], dossier_ids: Sequence[str]) -> list[list[tuple[str, str]]]:
    """Each dossier's events as the platform made them: (event type, producing service), in order."""
    found: dict[str, list[tuple[int, str, str]]] = {d: [] for d in dossier_ids}
    cursor = records["timeline"].find({}, projection={"dossier_id": 1, "sequence": 1, "event_type": 1, "event": 1})
    async for entry in cursor:
        if entry["dossier_id"] in found:
            source = re.search(r'"source":"/hoso/([a-z]+)"', entry["event"])
            found[entry["dossier_id"]].append(
                (entry["sequence"], entry["event_type"], source.group(1) if source else "")
            )
    return [[(t, s) for _, t, s in sorted(found[d])] for d in dossier_ids]


async def replay(
    bootstrap: str, mongo_url: str, stories: list[list[tuple[str, str]]], concurrency: int, apply_concurrency: int = 8
) -> dict[str, Any]:
    """Replay the dossiers' lifecycles; returns the replay's dossier rate and what it did per dossier."""
    run = uuid.uuid4().hex[:8]
    topics = {t: f"bench-replay-{run}.{t}" for t in (DOSSIER_EVENTS, NOTIFICATION_EVENTS)}
    await ensure_topics(bootstrap, list(topics.values()), partitions=12)
    client = create_client(mongo_url, app_name="bench-replay")
    dbs = {s: client[f"bench_replay_{run}_{s}"] for s in ("intake", "review", "notify", "records")}
    subs = subscriptions()
    expected = {s: sum(1 for story in stories for t, _ in story if EventType(t) in subs[s][1]) for s in subs}
    applied = dict.fromkeys(subs, 0)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()

    async def consume(service: str) -> None:
        wanted, types = subs[service]
        consumer = AIOKafkaConsumer(
            *(topics[t] for t in wanted), bootstrap_servers=bootstrap, group_id=f"bench-replay-{run}-{service}",
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=200,
        )  # fmt: skip
        await consumer.start()
        gate = asyncio.Semaphore(apply_concurrency)
        collection = dbs[service]["applied"]

        async def write(key: str, event_ids: list[str]) -> None:
            async with gate:  # a dossier's events in order, dossiers at once, as the services apply a batch
                for event_id in event_ids:  # an idempotent write: the event's id noted on the dossier's document
                    await collection.update_one({"_id": key}, {"$addToSet": {"applied_events": event_id}}, upsert=True)

        try:
            while applied[service] < expected[service]:
                batch = await consumer.getmany(timeout_ms=500, max_records=200)
                records = [r for rs in batch.values() for r in rs]
                mine = [r for r in records if EventType(dict(r.headers)["ce_type"].decode()) in types]
                by_dossier: dict[str, list[str]] = {}
                for r in mine:
                    by_dossier.setdefault(r.key.decode(), []).append(dict(r.headers)["ce_id"].decode())
                await asyncio.gather(*(write(key, ids) for key, ids in by_dossier.items()))
                if records:
                    await consumer.commit()
                applied[service] += len(mine)
        finally:
            await consumer.stop()

    async def produce(n: int, story: list[tuple[str, str]]) -> None:
        key = f"replay-{run}-{n}"
        for event_type, source in story:
            event_id = uuid.uuid4().hex
            outbox = {"event_id": event_id, "topic": topic_of(EventType(event_type)), "envelope": "{}"}
            await dbs.get(source, dbs["records"])["aggregates"].update_one(
                {"_id": key}, {"$push": {"outbox": outbox}, "$inc": {"outbox_rev": 1}}, upsert=True
            )
            headers = [("ce_type", event_type.encode()), ("ce_id", event_id.encode())]
            await producer.send_and_wait(
                topics[topic_of(EventType(event_type))], b"{}", key=key.encode(), headers=headers
            )

    consumers = [asyncio.create_task(consume(s)) for s in subs]
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int, story: list[tuple[str, str]]) -> None:
        async with gate:
            await produce(n, story)

    started = time.perf_counter()
    await asyncio.gather(*(one(n, s) for n, s in enumerate(stories)))
    await asyncio.wait_for(asyncio.gather(*consumers), timeout=900)
    elapsed = time.perf_counter() - started
    await producer.stop()
    for db in dbs.values():
        await client.drop_database(db.name)
    await client.close()
    return {
        "dossiers": len(stories),
        "events": sum(len(s) for s in stories),
        "writes_by_consumers": expected,
        "dossiers_per_s": round(len(stories) / elapsed, 2),
        "seconds": round(elapsed, 2),
    }
