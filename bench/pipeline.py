"""`make bench`: prints JSON figures.

(a) baseline: aiokafka produces N events the size of `dossier.submitted`, a consumer reads them and inserts them
    into MongoDB in batches of 100;
(b) records pipeline: N aggregates written with their outbox, relayed by the outbox relay, consumed by records'
    consumer (batches of up to 200, a commit after each batch's effects) into the hash-chained timeline;
(c) platform: K dossiers submitted through intake's HTTP API behind the gateway with concurrency C until records
    holds each (bench/through_gateway.py), then half that rate;
(d) replay: the minimal operations of (c)'s lifecycle with the same concurrency on the same servers
    (bench/replay.py), and (c)'s dossier rate over (d)'s, with the database commands and Kafka messages per dossier of
    both as FerretDB and Kafka count them.

usage: python bench/pipeline.py [--events N] [--dossiers K] [--concurrency C]
       (KAFKA_BOOTSTRAP_SERVERS, MONGODB_URL; `make bench` sets them; BENCH_EVENTS, BENCH_DOSSIERS, BENCH_CONCURRENCY)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
import uuid
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.through_gateway import run as platform_bench
from hoso.consumer import EventConsumer
from hoso.events import to_kafka
from hoso.health import Readiness
from hoso.kafka import create_broker, ensure_topics, publish_event
from hoso.mongo import create_client, ensure_indexes
from hoso.outbox import OutboxRelay, initial_outbox
from hoso.store import Store
from records.repository import INDEXES, RecordsRepository
from tests.support import records_batch_handler, records_handlers, submitted_event, wait_consumed


async def baseline(bootstrap: str, mongo_url: str, n: int) -> dict[str, Any]:
    topic = f"bench.baseline.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic], partitions=3)
    _, value, headers = to_kafka(submitted_event())
    raw_headers = [(k, v.encode()) for k, v in headers.items()]
    client = create_client(mongo_url, app_name="bench")
    collection = client[f"bench_{uuid.uuid4().hex[:8]}"]["events"]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=topic, auto_offset_reset="earliest")
    await producer.start()
    await consumer.start()
    started = time.perf_counter()
    sends = [await producer.send(topic, value, key=f"{i}".encode(), headers=raw_headers) for i in range(n)]
    await asyncio.gather(*sends)
    produced = time.perf_counter()
    stored = 0
    while stored < n:
        batch = await consumer.getmany(timeout_ms=1000, max_records=100)
        docs = [{"_id": f"{r.partition}-{r.offset}", "value": r.value} for rs in batch.values() for r in rs]
        if docs:
            await collection.insert_many(docs)
            await consumer.commit()
            stored += len(docs)
    finished = time.perf_counter()
    await consumer.stop()
    await producer.stop()
    await client.drop_database(collection.database.name)
    await client.close()
    return {
        "events": n,
        "event_bytes": len(value),
        "produce_events_per_s": round(n / (produced - started), 1),
        "end_to_end_events_per_s": round(n / (finished - started), 1),
    }


async def platform(bootstrap: str, mongo_url: str, n: int) -> dict[str, Any]:
    topic = f"bench.platform.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic], partitions=3)
    client = create_client(mongo_url, app_name="bench")
    db = client[f"bench_{uuid.uuid4().hex[:8]}"]
    store = Store(db)
    await store.connect()  # as the services do at start-up
    await ensure_indexes(db, INDEXES)
    events = [submitted_event(sequence=i % 9999 + 1) for i in range(n)]
    aggregates = db["aggregates"]
    written_at = time.perf_counter()
    for start in range(0, n, 200):
        chunk = events[start : start + 200]
        await aggregates.insert_many([{"_id": e.partitionkey, **initial_outbox([(topic, e)])} for e in chunk])
    written = time.perf_counter()
    broker = create_broker(bootstrap, client_id="bench")
    group = f"bench-{uuid.uuid4().hex[:8]}"
    repo = RecordsRepository(store)
    EventConsumer(
        service="records",
        broker=broker,
        readiness=Readiness(),
        topics=[topic],
        handlers=records_handlers(repo),
        batch_handler=records_batch_handler(repo),
        group_id=group,
    ).register()
    await broker.start()

    async def publish(t: str, e: Any) -> None:
        await publish_event(broker, t, e)

    relay = OutboxRelay(store.table("aggregates"), publish, service="bench", readiness=Readiness())
    relay_started = time.perf_counter()
    relayed = await relay.drain()
    relay_done = time.perf_counter()
    await wait_consumed(bootstrap, group, topic, timeout=600)
    consumed = time.perf_counter()
    recorded = await repo.timeline.count({})
    await broker.stop()
    await client.drop_database(db.name)
    await client.close()
    return {
        "events": n,
        "recorded": recorded,
        "write_aggregates_per_s": round(n / (written - written_at), 1),
        "relay_events_per_s": round(relayed / (relay_done - relay_started), 1),
        "relay_to_recorded_events_per_s": round(n / (consumed - relay_started), 1),
    }


async def main() -> None:
    # The figures are the output (stdout); the in-process consumer's and relay's logs go to stderr, warnings only.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", "2000")))
    parser.add_argument("--dossiers", type=int, default=int(os.environ.get("BENCH_DOSSIERS", "200")))
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", "16")))
    args = parser.parse_args()
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    mongo_url = os.environ["MONGODB_URL"]
    base = await baseline(bootstrap, mongo_url, args.events)
    records_pipeline = await platform(bootstrap, mongo_url, args.events)
    through_http = await platform_bench(args.dossiers, args.concurrency)
    figures = {
        "baseline": base,
        "records_pipeline": records_pipeline,
        "platform": through_http,
        # The yardstick: the platform's dossier rate over the replay of its minimal operations (bench/replay.py).
        "platform_to_replay": through_http["platform_to_replay"],
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
