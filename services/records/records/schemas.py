"""Response bodies of records' HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from hoso.events import EventType, PublicStatus
from hoso.events.status import status_label
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


class TrackingStep(BaseModel):
    step: str
    status_code: PublicStatus
    status_label_vi: str
    status_label_en: str
    at: datetime


class TrackingOut(BaseModel):
    """What anyone holding the dossier code and its PIN may see: no name, address, contact or document."""

    dossier_code: str
    procedure_code: str
    status_code: PublicStatus
    status_label_vi: str
    status_label_en: str
    submitted_at: datetime | None
    received_at: datetime | None
    appointment_at: datetime | None
    steps: list[TrackingStep]

    @classmethod
    def of(cls, summary: Document, timeline: list[Document]) -> TrackingOut:
        status = PublicStatus(summary["status_code"])
        return cls(
            dossier_code=summary["code"],
            procedure_code=summary["procedure_code"],
            status_code=status,
            status_label_vi=status_label(status, "vi"),
            status_label_en=status_label(status, "en"),
            submitted_at=summary.get("submitted_at"),
            received_at=summary.get("received_at"),
            appointment_at=summary.get("appointment_at"),
            steps=[
                TrackingStep(
                    step=EventType(d["event_type"]).short_name.removeprefix("dossier."),
                    status_code=PublicStatus(d["status_code"]),
                    status_label_vi=status_label(PublicStatus(d["status_code"]), "vi"),
                    status_label_en=status_label(PublicStatus(d["status_code"]), "en"),
                    at=d["event_time"],
                )
                for d in timeline
                if d["event_type"].startswith("vn.gov.hoso.dossier.")
            ],
        )
