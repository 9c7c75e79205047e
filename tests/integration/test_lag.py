"""Consumer lag from the real broker: what the group has not committed, per topic."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from hoso.lag import consumer_lag
from tests.support import unique


async def test_lag_counts_the_records_a_group_has_not_committed(kafka_bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for n in range(7):
            await producer.send_and_wait(topic, b"x", key=f"d-{n}".encode())
    finally:
        await producer.stop()
    group = unique("lag-group")
    assert await consumer_lag(kafka_bootstrap, group, [topic]) == {topic: 7}

    # The group consumes and commits three records of one partition: the lag drops by three.
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        counts = {}
        for p in range(3):
            tp = TopicPartition(topic, p)
            counts[tp] = (await consumer.end_offsets([tp]))[tp]
        busiest = max(counts, key=lambda tp: counts[tp])
        assert counts[busiest] >= 3
        consumer.assign(list(counts))
        await consumer.commit({busiest: 3})
    finally:
        await consumer.stop()
    assert await consumer_lag(kafka_bootstrap, group, [topic]) == {topic: 4}
    missing = unique("no.such.topic")
    assert await consumer_lag(kafka_bootstrap, group, [missing]) == {missing: 0}
