"""Consumer lag: how many records of each topic a consumer group has not committed yet (the metric KEDA scales on)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from hoso.kafka import topic_partitions
from hoso.logs import get_logger
from hoso.metrics import CONSUMER_LAG

log = get_logger(__name__)


async def consumer_lag(bootstrap_servers: str, group: str, topics: Sequence[str]) -> dict[str, int]:
    """Per topic: end offsets minus the group's committed offsets (a partition never committed counts whole)."""
    partitions = [TopicPartition(t, p) for t in topics for p in await topic_partitions(bootstrap_servers, t)]
    if not partitions:
        return dict.fromkeys(topics, 0)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=15_000)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        end = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
        await admin.close()
    lag = dict.fromkeys(topics, 0)
    for tp in partitions:
        done = committed.get(tp)
        position = done.offset if done is not None and done.offset >= 0 else 0
        lag[tp.topic] += max(end[tp] - position, 0)
    return lag


async def watch_lag(service: str, bootstrap_servers: str, group: str, topics: Sequence[str], interval: float) -> None:
    """Publish the group's lag per topic as `hoso_consumer_lag` every `interval` seconds."""
    while True:
        try:
            for topic, lag in (await consumer_lag(bootstrap_servers, group, topics)).items():
                CONSUMER_LAG.labels(service, topic).set(lag)
        except Exception as exc:  # the broker may be away: the gauge keeps its last value
            log.warning("lag.unavailable", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(interval)
