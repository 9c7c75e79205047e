"""The CloudEvents 1.0 envelope and its Kafka binary-mode binding."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from hoso.errors import SchemaViolation, UnknownEventType, UnparseableMessage
from hoso.events.catalog import EVENT_MODELS, DossierEventData, EventData, EventType, TimelineNote
from hoso.topics import event_source
from hoso.tracing import current_traceparent

CONTENT_TYPE: Literal["application/json"] = "application/json"
HEADER_PREFIX = "ce_"
# Attributes carried as ce_* headers; data goes in the value, partitionkey in the key (Kafka protocol binding).
_HEADER_ATTRIBUTES = (
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "correlationid",
    "traceparent",
)


class Envelope(BaseModel):
    """One CloudEvent. `id` is the dedupe key everywhere."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(pattern=r"^/hoso/[a-z]+$")
    type: EventType
    subject: str = Field(min_length=1, description="The dossier code")
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = CONTENT_TYPE
    partitionkey: str = Field(min_length=1, description="The dossier id: the Kafka key")
    correlationid: str | None = None
    traceparent: str | None = None
    data: dict[str, Any]

    def payload(self) -> EventData:
        """The data validated against this type's model."""
        try:
            return EVENT_MODELS[self.type].model_validate(self.data)
        except ValidationError as exc:
            raise SchemaViolation(_validation_summary(exc)) from exc

    def canonical(self) -> bytes:
        """Stable bytes of the whole event (sorted keys, no spaces): what hash chains sign."""
        return canonical_json(self.model_dump(mode="json"))


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def new_event(
    event_type: EventType,
    data: DossierEventData | TimelineNote,
    *,
    service: str,
    correlation_id: str | None = None,
    traceparent: str | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Build the envelope for `data`; the payload model must be the one the catalog names for the type."""
    expected = EVENT_MODELS[event_type]
    if type(data) is not expected:
        raise TypeError(f"{event_type} carries {expected.__name__}, not {type(data).__name__}")
    return Envelope(
        id=str(uuid.uuid4()),
        source=event_source(service),
        type=event_type,
        subject=data.dossier_code,
        time=time or datetime.now(UTC),
        partitionkey=data.dossier_id,
        correlationid=correlation_id,
        traceparent=traceparent or current_traceparent(),
        data=data.model_dump(mode="json"),
    )


def to_kafka(event: Envelope) -> tuple[bytes, bytes, dict[str, str]]:
    """(key, value, headers) in CloudEvents binary content mode."""
    headers: dict[str, str] = {"content-type": event.datacontenttype}
    attributes = event.model_dump(mode="json", include=set(_HEADER_ATTRIBUTES), exclude_none=True)
    for name in _HEADER_ATTRIBUTES:
        if name in attributes:
            headers[HEADER_PREFIX + name] = str(attributes[name])
    return event.partitionkey.encode(), canonical_json(event.data), headers


def from_kafka(
    key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes]] | Mapping[str, bytes]
) -> Envelope:
    """Parse a binary-mode CloudEvent; every way it can be wrong raises a PoisonMessage subclass."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    attributes: dict[str, Any] = {}
    try:
        for name, raw in pairs:
            lowered = name.lower()
            if lowered.startswith(HEADER_PREFIX):
                attributes[lowered.removeprefix(HEADER_PREFIX)] = raw.decode()
            elif lowered == "content-type":
                attributes["datacontenttype"] = raw.decode()
        data = json.loads(value) if value else None
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnparseableMessage(str(exc)) from exc
    if "type" not in attributes or "id" not in attributes:
        raise UnparseableMessage("not a CloudEvent: ce_id or ce_type header missing")
    if attributes["type"] not in EventType.__members__.values():
        raise UnknownEventType(attributes["type"])
    if not isinstance(data, dict):
        raise SchemaViolation("data must be a JSON object")
    attributes["partitionkey"] = key.decode(errors="replace") if key else ""
    try:
        event = Envelope.model_validate({**attributes, "data": data})
    except ValidationError as exc:
        raise SchemaViolation(_validation_summary(exc)) from exc
    event.payload()
    return event


def _validation_summary(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()[:10])
