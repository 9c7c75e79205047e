"""Response bodies of records' HTTP API."""

from __future__ import annotations

import json
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from hoso.events import EventType, PublicStatus
from hoso.events.status import status_label
from hoso.mongo import Document
from records.domain.documents import step_detail
from records.domain.stats import CLOCK, INDICES, IndexMethod, MonthTotal, Performance, StatsRow


class TimelineEntryOut(BaseModel):
    sequence: int
    event_id: str
    event_type: str
    event_time: datetime
    status_code: PublicStatus | None = Field(description="The status a dossier event led to; none for notifications")
    recorded_at: datetime
    event_hash: str
    previous_hash: str
    hash: str
    detail: str | None = Field(
        default=None,
        description="What kind of step a general event type is: a council's step (council_established, "
        "review_submitted, site_surveyed, consulted, meeting_held), revision (a supplement that is the report's "
        "revision) or granted (an extension the law grants by an authority's decision, with no apology)",
    )

    @classmethod
    def of(cls, doc: Document) -> TimelineEntryOut:
        fields = {k: doc[k] for k in cls.model_fields if k not in ("event_id", "detail")}
        detail = step_detail(json.loads(doc["event"]).get("data") or {}) if doc.get("event") else None
        return cls(event_id=doc["_id"], detail=detail, **fields)


class TimelineOut(BaseModel):
    dossier_code: str
    entries: list[TimelineEntryOut]
    head: str | None


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(
        min_length=1, max_length=1000, description="Why: the data subject's request, its date and reference"
    )


class ErasureOut(BaseModel):
    dossier_code: str
    erased_at: datetime
    erased: list[str] = Field(description="What was erased, as paths in the submission (`applicant.email`, ...)")
    reason: str
    actor_id: str
    erased_now: bool = Field(description="False when the dossier's personal data had been erased before")

    @classmethod
    def of(cls, record: Document, *, now: bool) -> ErasureOut:
        erasure = record["erasure"]
        return cls(
            dossier_code=record["dossier_code"],
            erased_at=record["erased_at"],
            erased=erasure["erased"],
            reason=erasure["reason"],
            actor_id=erasure["actor_id"],
            erased_now=now,
        )


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


class DossierSummaryOut(BaseModel):
    code: str
    agency_code: str
    procedure_code: str
    procedure_name: str = ""
    applicant_id: str | None = None
    applicant_name: str = ""
    status_code: PublicStatus
    status_label_vi: str
    status_label_en: str
    submitted_at: datetime | None = None
    received_at: datetime | None = None
    due_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: str | None = None
    overdue: bool

    @classmethod
    def of(cls, doc: Document, now: datetime) -> DossierSummaryOut:
        status = PublicStatus(doc["status_code"])
        return cls(
            code=doc["code"],
            agency_code=doc["agency_code"],
            procedure_code=doc["procedure_code"],
            procedure_name=doc.get("procedure_name_vi") or "",
            applicant_id=doc.get("applicant_id"),
            applicant_name=doc.get("applicant_name") or "",
            status_code=status,
            status_label_vi=status_label(status, "vi"),
            status_label_en=status_label(status, "en"),
            submitted_at=doc.get("submitted_at"),
            received_at=doc.get("received_at"),
            due_at=doc.get("due_at"),
            finished_at=doc.get("finished_at"),
            outcome=doc.get("outcome"),
            overdue=CLOCK.overdue(doc, now),
        )


class SearchPage(BaseModel):
    items: list[DossierSummaryOut]
    page: int
    page_size: int
    total: int


class StatsOut(BaseModel):
    period_from: date
    period_to: date
    agency_code: str | None
    rows: list[StatsRow]
    total: StatsRow
    months: list[MonthTotal] = Field(description="The total of each calendar month the period touches, cut to it")
    indices: list[IndexMethod] = Field(
        default_factory=lambda: list(INDICES),
        description="How the rates of Decision 766/QĐ-TTg's groups are computed from the columns (the rows carry them)",
    )


class RatingIn(BaseModel):
    """The applicant's rating of the service: 1 (very dissatisfied) to 5 (very satisfied), and what they say."""

    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000)


class RatingOut(BaseModel):
    dossier_code: str
    score: int
    comment: str
    at: datetime

    @classmethod
    def of(cls, code: str, rating: Document) -> RatingOut:
        return cls(dossier_code=code, score=rating["score"], comment=rating.get("comment", ""), at=rating["at"])


class PerformanceOut(BaseModel):
    since: datetime
    months: int
    procedures: list[Performance]
