"""Response bodies of records' HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from hoso.events import PublicStatus
from hoso.mongo import Document


class TimelineEntryOut(BaseModel):
    sequence: int
    event_id: str
    event_type: str
    event_time: datetime
    status_code: PublicStatus
    recorded_at: datetime
    event_hash: str
    previous_hash: str
    hash: str

    @classmethod
    def of(cls, doc: Document) -> TimelineEntryOut:
        return cls(event_id=doc["_id"], **{k: doc[k] for k in cls.model_fields if k != "event_id"})


class TimelineOut(BaseModel):
    dossier_code: str
    entries: list[TimelineEntryOut]
    head: str | None


class AuditOut(BaseModel):
    dossier_code: str
    valid: bool
    entries: int
    head: str
    first_invalid_sequence: int | None
    first_invalid_event_id: str | None
    problem: str | None
