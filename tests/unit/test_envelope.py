"""CloudEvents envelope: binary-mode Kafka binding, and every way a message can be poison."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cloudevents.v1.kafka import KafkaMessage, from_binary

from hoso.errors import SchemaViolation, UnknownEventType, UnparseableMessage
from hoso.events import Envelope, EventType, PublicStatus, from_kafka, new_event, to_kafka
from hoso.events.catalog import Applicant, DossierRefused, DossierSubmitted


def submitted_event() -> Envelope:
    data = DossierSubmitted(
        dossier_id="d-1",
        dossier_code="BNNMT-261127-0001",
        procedure_code="1.010727",
        agency_code="BNNMT",
        status_code=PublicStatus.NEW,
        procedure_version="2025.1",
        applicant=Applicant(id="citizen-1", name="Nguyễn Văn An"),
        submitted_at=datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
    )
    return new_event(EventType.DOSSIER_SUBMITTED, data, service="intake", correlation_id="corr-1")


def test_binary_roundtrip_keeps_every_attribute() -> None:
    event = submitted_event()
    key, value, headers = to_kafka(event)
    back = from_kafka(key, value, [(k, v.encode()) for k, v in headers.items()])
    assert back == event
    assert key == b"d-1"
    assert headers["ce_type"] == "vn.gov.hoso.dossier.submitted.v1"
    assert headers["ce_subject"] == "BNNMT-261127-0001"


def test_the_official_sdk_reads_our_binary_message() -> None:
    event = submitted_event()
    key, value, headers = to_kafka(event)
    sdk_event = from_binary(KafkaMessage({k: v.encode() for k, v in headers.items()}, key, value))
    assert sdk_event["id"] == event.id
    assert sdk_event["source"] == "/hoso/intake"
    assert sdk_event["type"] == EventType.DOSSIER_SUBMITTED.value
    assert sdk_event["correlationid"] == "corr-1"
    assert sdk_event.data["applicant"]["name"] == "Nguyễn Văn An"


def test_new_event_refuses_a_payload_of_another_type() -> None:
    data = DossierRefused(
        dossier_id="d",
        dossier_code="A-261127-0001",
        procedure_code="p",
        agency_code="A",
        status_code=PublicStatus.NOT_RECEIVED,
        actor_id="o",
        reason="incomplete",
    )
    with pytest.raises(TypeError, match="carries DossierSubmitted"):
        new_event(EventType.DOSSIER_SUBMITTED, data, service="review")  # type: ignore[arg-type]


def _headers(**overrides: str) -> list[tuple[str, bytes]]:
    _, _, headers = to_kafka(submitted_event())
    headers.update(overrides)
    return [(k, v.encode()) for k, v in headers.items()]


def test_malformed_bytes_are_unparseable() -> None:
    with pytest.raises(UnparseableMessage):
        from_kafka(b"d-1", b"\xff\xfe not json", _headers())


def test_a_message_without_cloudevents_headers_is_unparseable() -> None:
    with pytest.raises(UnparseableMessage, match="ce_id or ce_type"):
        from_kafka(b"d-1", b"{}", [])


def test_an_unknown_type_is_named() -> None:
    with pytest.raises(UnknownEventType, match=r"vn\.gov\.hoso\.dossier\.teleported\.v1"):
        from_kafka(b"d-1", b"{}", _headers(ce_type="vn.gov.hoso.dossier.teleported.v1"))


def test_a_payload_missing_a_field_is_a_schema_violation_naming_it() -> None:
    _, value, _ = to_kafka(submitted_event())
    data = json.loads(value)
    del data["applicant"]
    with pytest.raises(SchemaViolation, match="applicant: Field required"):
        from_kafka(b"d-1", json.dumps(data).encode(), _headers())


def test_a_status_code_outside_1_to_10_is_a_schema_violation() -> None:
    _, value, _ = to_kafka(submitted_event())
    data = json.loads(value) | {"status_code": 11}
    with pytest.raises(SchemaViolation, match="status_code"):
        from_kafka(b"d-1", json.dumps(data).encode(), _headers())


def test_unknown_payload_fields_are_ignored_so_payloads_can_grow() -> None:
    _, value, _ = to_kafka(submitted_event())
    data = json.loads(value) | {"added_later": "x"}
    event = from_kafka(b"d-1", json.dumps(data).encode(), _headers())
    assert isinstance(event.payload(), DossierSubmitted)
