"""CloudEvents envelope, payload catalog, public status codes and schemas."""

from hoso.events.catalog import EVENT_MODELS, EventData, EventType
from hoso.events.envelope import Envelope, canonical_json, from_kafka, new_event, to_kafka
from hoso.events.status import PublicStatus, status_label

__all__ = [
    "EVENT_MODELS",
    "Envelope",
    "EventData",
    "EventType",
    "PublicStatus",
    "canonical_json",
    "from_kafka",
    "new_event",
    "status_label",
    "to_kafka",
]
