"""The platform's API documents, generated from the code: AsyncAPI for the event catalog (FastStream), OpenAPI for
each service's HTTP API (FastAPI). `hoso docs write` puts them under docs/; `hoso docs check` fails when they are stale.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification.asyncapi import AsyncAPI

from hoso.events import EventType
from hoso.events.catalog import EVENT_MODELS, DossierEventData
from hoso.topics import DOSSIER_EVENTS, NOTIFICATION_EVENTS, SERVICES, dlq_topic

DOCS = Path(__file__).resolve().parents[2] / "docs"

# Which service emits each event type (the rest: review); `tests/unit/test_event_schemas.py` checks it against the
# services' code.
PRODUCERS: dict[EventType, str] = {
    EventType.DOSSIER_SUBMITTED: "intake",
    EventType.DOSSIER_SUPPLEMENTED: "intake",
    EventType.DOSSIER_WITHDRAWAL_REQUESTED: "intake",
    EventType.DOSSIER_FEE_PAID: "intake",
    EventType.DOSSIER_MESSAGE_SENT: "intake",
    EventType.DOSSIER_MESSAGE_READ: "intake",
    EventType.DOSSIER_ARCHIVED: "records",
    EventType.DOSSIER_PERSONAL_DATA_ERASED: "records",
    EventType.NOTIFICATION_DELIVERED: "notify",
    EventType.NOTIFICATION_FAILED: "notify",
}
# What each service's consumer group reads.
CONSUMERS: dict[str, list[str]] = {
    "intake": [DOSSIER_EVENTS],
    "review": [DOSSIER_EVENTS],
    "notify": [DOSSIER_EVENTS],
    "records": [DOSSIER_EVENTS, NOTIFICATION_EVENTS],
}


def producer_of(event_type: EventType) -> str:
    return PRODUCERS.get(event_type, "review")


def topic_of(event_type: EventType) -> str:
    return DOSSIER_EVENTS if issubclass(EVENT_MODELS[event_type], DossierEventData) else NOTIFICATION_EVENTS


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0 of every event type (its payload schema, topic and producer) and every consumer group."""
    broker = KafkaBroker("kafka:9092", description="Apache Kafka; every record is keyed by the dossier id")
    for event_type, model in EVENT_MODELS.items():
        broker.publisher(
            topic_of(event_type),
            title=f"{topic_of(event_type)}/{event_type.short_name}",
            schema=model,
            description=(
                f"CloudEvents type `{event_type.value}` in binary mode (attributes in `ce_*` headers), emitted by "
                f"{producer_of(event_type)} through its outbox. {(model.__doc__ or '').strip()}"
            ).strip(),
        )
    for service in SERVICES:
        for topic in CONSUMERS[service]:

            async def handler(body: bytes) -> None:
                return None

            broker.subscriber(
                topic,
                group_id=service,
                title=f"{service}/{topic}",
                description=(
                    f"Consumer group `{service}`: applies each event at most once; poison messages go to "
                    f"`{dlq_topic(topic, service)}` with the reason in the `dlq_reason` header."
                ),
            )(handler)
    spec = AsyncAPI(
        broker,
        title="Hoso events",
        version="1.0.0",
        description="The event catalog of the Hoso platform: dossier lifecycle and notification outcomes.",
    ).to_specification()
    document: dict[str, Any] = json.loads(spec.to_json())
    return document


def openapi_document(service: str) -> dict[str, Any]:
    """The OpenAPI document of one service's HTTP API (built without connecting to anything)."""
    from hoso.runtime import ProcessRole

    bootstrap = importlib.import_module(f"{service}.bootstrap")
    app = bootstrap.build_app(ProcessRole.API)
    document: dict[str, Any] = app.openapi()
    return document


def documents() -> dict[Path, bytes]:
    found = {DOCS / "asyncapi.json": asyncapi_document()}
    found.update({DOCS / "openapi" / f"{service}.json": openapi_document(service) for service in SERVICES})
    return {
        path: (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
        for path, doc in found.items()
    }


def write() -> list[Path]:
    written = []
    for path, content in documents().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written


def stale() -> list[Path]:
    return [path for path, content in documents().items() if not path.exists() or path.read_bytes() != content]
