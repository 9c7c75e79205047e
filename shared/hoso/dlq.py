"""Operator tools for dead-letter topics: list them, and replay them to the failing service once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from hoso.consumer import DLQ_HEADERS
from hoso.kafka import topic_partitions
from hoso.topics import dlq_topic, retry_topic


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    replayed: bool

    def summary(self) -> dict[str, Any]:
        h = self.headers
        return {
            "partition": self.partition,
            "offset": self.offset,
            "key": self.key,
            "reason": h.get("dlq_reason"),
            "error": h.get("dlq_error"),
            "event_id": h.get("ce_id"),
            "event_type": h.get("ce_type"),
            "original_topic": h.get("dlq_original_topic"),
            "original_partition": h.get("dlq_original_partition"),
            "original_offset": h.get("dlq_original_offset"),
            "failed_at": h.get("dlq_failed_at"),
            "replayed": self.replayed,
        }


def replay_group(service: str) -> str:
    return f"{service}.dlq-replay"


async def _records_until_end(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> AsyncIterator[ConsumerRecord[Any, Any]]:
    end = await consumer.end_offsets(partitions)
    remaining = {tp for tp in partitions if await consumer.position(tp) < end[tp]}
    while remaining:
        batch = await consumer.getmany(*remaining, timeout_ms=2000)
        if not batch:
            break
        for tp, records in batch.items():
            for record in records:
                yield record
            if await consumer.position(tp) >= end[tp]:
                remaining.discard(tp)


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for p in await topic_partitions(bootstrap, topic)]


async def list_dead_letters(bootstrap: str, service: str, topic: str) -> list[DeadLetter]:
    source = dlq_topic(topic, service)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=replay_group(service))
    await consumer.start()
    try:
        partitions = await _partitions(bootstrap, source)
        if not partitions:
            return []
        committed = {tp: await consumer.committed(tp) or 0 for tp in partitions}
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        out = []
        async for r in _records_until_end(consumer, partitions):
            tp = TopicPartition(r.topic, r.partition)
            headers = {k: v.decode(errors="replace") for k, v in r.headers or ()}
            key = r.key.decode(errors="replace") if r.key else None
            out.append(DeadLetter(r.partition, r.offset, key, headers, replayed=r.offset < committed[tp]))
        return out
    finally:
        await consumer.stop()


async def replay_dead_letters(bootstrap: str, service: str, topic: str) -> int:
    """Send every not-yet-replayed dead letter to `<topic>.retry.<service>`; each is replayed once."""
    source, target = dlq_topic(topic, service), retry_topic(topic, service)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=replay_group(service))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await consumer.start()
    await producer.start()
    replayed = 0
    try:
        partitions = await _partitions(bootstrap, source)
        if not partitions:
            return 0
        consumer.assign(partitions)
        for tp in partitions:
            committed = await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        async for r in _records_until_end(consumer, partitions):
            headers = [(k, v) for k, v in r.headers or () if k not in DLQ_HEADERS]
            await producer.send_and_wait(target, r.value, key=r.key, headers=headers)
            await consumer.commit({TopicPartition(r.topic, r.partition): r.offset + 1})
            replayed += 1
        return replayed
    finally:
        await producer.stop()
        await consumer.stop()
