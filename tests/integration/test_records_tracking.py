"""Public tracking against the real broker and database: the right PIN answers, anything else answers alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from hoso.events import EventType, PublicStatus, new_event
from hoso.events.catalog import DossierReceived
from hoso.kafka import publish_event
from hoso.pins import hash_pin
from hoso.runtime import ProcessRole
from hoso.topics import DOSSIER_EVENTS
from records.bootstrap import build_app
from records.settings import RecordsSettings
from tests.support import eventually, submitted_event, unique


@pytest.fixture
def prefix() -> str:
    return unique("records") + "."


@pytest.fixture
async def records(kafka_bootstrap: str, mongo_url: str, state_dir: Path, prefix: str) -> AsyncIterator[FastAPI]:
    settings = RecordsSettings(
        mongodb_url=mongo_url,
        mongodb_database=unique("test_records").replace("-", "_"),
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=prefix,
        consumer_group=f"{prefix}records",
        local_mode=True,
        state_dir=state_dir,
    )
    app = build_app(ProcessRole.ALL, settings)
    async with app.router.lifespan_context(app):
        yield app


async def test_tracking_needs_the_pin_and_shows_no_personal_data(
    records: FastAPI, broker: KafkaBroker, prefix: str
) -> None:
    submitted = submitted_event(sequence=7)
    data = submitted.data
    now = datetime.now(UTC)
    received = new_event(
        EventType.DOSSIER_RECEIVED,
        DossierReceived(
            **{k: data[k] for k in ("dossier_id", "dossier_code", "procedure_code", "agency_code")},
            status_code=PublicStatus.RECEIVED,
            actor_id="officer-1",
            receipt_number=f"{submitted.subject}/TN",
            received_at=now,
            appointment_at=now + timedelta(days=45),
            due_at=now + timedelta(days=45),
            tracking_pin_hash=hash_pin("12345678"),
        ),
        service="review",
    )
    for event in (submitted, received):
        await publish_event(broker, prefix + DOSSIER_EVENTS, event)
    code = submitted.subject
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=records), base_url="http://records") as client:

        async def tracked() -> bool:
            answer = await client.get(f"/api/v1/tracking/{code}", params={"pin": "12345678"})
            return answer.status_code == 200 and len(answer.json()["steps"]) == 2

        await eventually(tracked, timeout=30, what="tracking with the right PIN")
        answer = (await client.get(f"/api/v1/tracking/{code}", params={"pin": "12345678"})).json()
        assert answer["status_code"] == 2
        assert answer["status_label_vi"] == "Đã tiếp nhận"
        assert [s["step"] for s in answer["steps"]] == ["submitted", "received"]
        assert answer["appointment_at"] is not None
        text = str(answer)
        for personal in ("Nguyễn Văn An", "an@example.vn", "citizen-1", "officer-1", "tracking_pin"):
            assert personal not in text

        wrong = await client.get(f"/api/v1/tracking/{code}", params={"pin": "87654321"})
        unknown = await client.get("/api/v1/tracking/BNNMT-991231-9999", params={"pin": "87654321"})
        assert wrong.status_code == unknown.status_code == 404
        assert wrong.headers["content-type"] == unknown.headers["content-type"] == "application/problem+json"
        assert {k: v for k, v in wrong.json().items() if k != "instance"} == {
            k: v for k, v in unknown.json().items() if k != "instance"
        }
        missing = await client.get(f"/api/v1/tracking/{code}")
        assert missing.status_code == 422
        assert "pin" in missing.text
