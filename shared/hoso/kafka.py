"""Kafka: the FastStream broker factory, keyed CloudEvent publishing and topic bootstrap."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from hoso.events.envelope import Envelope, to_kafka
from hoso.logs import get_logger

log = get_logger(__name__)


def create_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    """One broker per process: idempotent producer with acks=all, so a published event is durable."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=15_000,
        logger=None,
        description="Apache Kafka; every record is keyed by the dossier id",
    )


async def publish_event(broker: KafkaBroker, topic: str, event: Envelope) -> None:
    """Publish one event keyed by dossier id, in CloudEvents binary mode; returns once the broker has it."""
    key, value, headers = to_kafka(event)
    await broker.publish(value, topic, key=key, headers=headers, correlation_id=event.correlationid or event.id)


async def ensure_topics(
    bootstrap_servers: str, topics: Iterable[str], *, partitions: int, replication: int = 1
) -> None:
    """Create the topics that do not exist yet (idempotent, safe from several processes at once)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=15_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics([NewTopic(t, partitions, replication) for t in missing])
        log.info("kafka.topics_created", topics=missing, partitions=partitions)
    finally:
        await admin.close()


async def topic_partitions(bootstrap_servers: str, topic: str) -> list[int]:
    """The partition numbers of `topic`; empty when it does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=15_000)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(p["partition"] for t in described if t.get("error_code", 0) == 0 for p in t["partitions"])
