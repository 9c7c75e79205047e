"""Property-based: whatever arrives on a topic, parsing either gives a valid event or raises a poison message with a
reason (never another error), and every catalog event survives the trip through Kafka's binary mode."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from hoso.errors import PoisonMessage
from hoso.events import EventType, from_kafka, to_kafka
from hoso.events.catalog import EVENT_MODELS
from hoso.events.envelope import Envelope
from notify.domain.messages import sample_payload

TYPES = st.sampled_from([t.value for t in EventType] + ["vn.gov.hoso.dossier.teleported.v1", "", "x" * 300])
HEADER_NAMES = st.sampled_from(
    ["ce_id", "ce_type", "ce_source", "ce_subject", "ce_time", "ce_specversion", "content-type", "ce_traceparent", "x"]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)


REASONS = {"unparseable", "schema-invalid", "unknown-type"}
Headers = list[tuple[str, bytes]]


def parse(key: bytes | None, value: bytes | None, headers: Headers) -> Envelope | PoisonMessage:
    try:
        return from_kafka(key, value, headers)
    except PoisonMessage as poison:
        return poison


@settings(max_examples=400, deadline=None)
@given(
    key=st.none() | st.binary(max_size=40),
    value=st.none() | st.binary(max_size=300),
    headers=st.lists(st.tuples(HEADER_NAMES, st.binary(max_size=60)), max_size=10),
)
def test_arbitrary_bytes_parse_or_are_poison(key: bytes | None, value: bytes | None, headers: Headers) -> None:
    outcome = parse(key, value, headers)
    if isinstance(outcome, PoisonMessage):
        assert outcome.reason in REASONS
        assert outcome.detail
    else:
        assert isinstance(outcome, Envelope)


@settings(max_examples=400, deadline=None)
@given(event_type=TYPES, data=JSON_VALUES, event_id=st.text(max_size=40), subject=st.text(max_size=40))
def test_cloud_events_with_any_json_data_parse_or_are_poison(
    event_type: str, data: object, event_id: str, subject: str
) -> None:
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", event_id.encode()),
        ("ce_type", event_type.encode()),
        ("ce_source", b"/hoso/intake"),
        ("ce_subject", subject.encode()),
        ("ce_time", datetime.now(UTC).isoformat().encode()),
        ("content-type", b"application/json"),
    ]
    outcome = parse(b"d-1", json.dumps(data).encode(), headers)
    if isinstance(outcome, PoisonMessage):
        assert outcome.reason in REASONS
    else:
        assert outcome.type.value == event_type
        outcome.payload()  # already validated: does not raise


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_catalog_event_survives_kafka_binary_mode(data: st.DataObject) -> None:
    event_type = data.draw(st.sampled_from(list(EventType)))
    payload = sample_payload(EVENT_MODELS[event_type])
    envelope = Envelope(
        id=data.draw(st.uuids()).hex,
        source="/hoso/review",
        type=event_type,
        subject=data.draw(st.text(min_size=1, max_size=30)),
        time=datetime(2026, 11, 27, tzinfo=UTC),
        partitionkey=data.draw(st.text(alphabet="abcdef0123456789-", min_size=1, max_size=36)),
        data=payload.model_dump(mode="json"),
    )
    key, value, headers = to_kafka(envelope)
    back = from_kafka(key, value, [(k, v.encode()) for k, v in headers.items()])
    assert back == envelope
