"""A CloudEvent we publish to the real broker is read back by the official `cloudevents` SDK."""

from __future__ import annotations

from cloudevents.v1.kafka import KafkaMessage, from_binary
from faststream.kafka import KafkaBroker

from hoso.kafka import publish_event
from tests.support import read_topic, submitted_event


async def test_the_official_sdk_reads_what_we_publish(broker: KafkaBroker, topic: str, kafka_bootstrap: str) -> None:
    event = submitted_event().model_copy(
        update={"correlationid": "corr-42", "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}
    )
    await publish_event(broker, topic, event)

    [record] = await read_topic(kafka_bootstrap, topic, expect=1)
    sdk_event = from_binary(KafkaMessage(dict(record.headers), record.key, record.value))

    assert sdk_event["specversion"] == "1.0"
    assert sdk_event["id"] == event.id
    assert sdk_event["source"] == "/hoso/intake"
    assert sdk_event["type"] == "vn.gov.hoso.dossier.submitted.v1"
    assert sdk_event["subject"] == event.subject
    assert sdk_event["datacontenttype"] == "application/json"
    assert sdk_event["partitionkey"] == event.partitionkey.encode()
    assert sdk_event["correlationid"] == "corr-42"
    assert sdk_event["traceparent"] == event.traceparent
    assert sdk_event.data["dossier_code"] == event.subject
    assert sdk_event.data["applicant"]["name"] == "Nguyễn Văn An"
