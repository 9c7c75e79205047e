"""Response bodies of review's HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, PlainSerializer

from hoso.deadlines import VIETNAM, WorkCalendar
from hoso.events import PublicStatus
from hoso.events.status import status_label
from hoso.mongo import Document

# Times are answered in Vietnam's time zone (+07:00), whether they were just computed or read back from MongoDB.
LocalTime = Annotated[datetime, PlainSerializer(lambda moment: moment.astimezone(VIETNAM).isoformat(), return_type=str)]


class HistoryEntry(BaseModel):
    version: int
    kind: str = Field(description="action (an officer), event (from intake), timer (the schedulers)")
    name: str
    actor_id: str
    at: LocalTime
    from_state: str | None
    to_state: str
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, step: Document) -> HistoryEntry:
        record = step["record"]
        return cls(
            version=step["version"],
            kind=record["kind"],
            name=record["name"],
            actor_id=record["actor_id"],
            at=record["at"],
            from_state=record.get("from"),
            to_state=record["to"],
            details=record.get("details", {}),
        )


class TaskOut(BaseModel):
    dossier_id: str
    code: str
    agency_code: str
    procedure_code: str
    procedure_version: str
    workflow_id: str
    state: str
    status_code: PublicStatus
    status_label_vi: str
    status_label_en: str
    applicant_name: str
    assignee_id: str | None
    opened_at: LocalTime
    received_at: LocalTime | None
    due_at: LocalTime | None
    clock_paused: bool
    overdue: bool
    actionable_roles: list[str]

    @classmethod
    def of(cls, doc: Document, now: datetime) -> TaskOut:
        status = PublicStatus(doc["status_code"])
        due = doc.get("due_at")
        paused = doc.get("paused_at") is not None
        return cls(
            dossier_id=doc["_id"],
            code=doc["code"],
            agency_code=doc["agency_code"],
            procedure_code=doc["procedure_code"],
            procedure_version=doc["procedure_version"],
            workflow_id=doc["workflow_id"],
            state=doc["state"],
            status_code=status,
            status_label_vi=status_label(status, "vi"),
            status_label_en=status_label(status, "en"),
            applicant_name=doc.get("applicant", {}).get("name", ""),
            assignee_id=doc.get("assignee_id"),
            opened_at=doc["opened_at"],
            received_at=doc.get("received_at"),
            due_at=due,
            clock_paused=paused,
            overdue=due is not None and not paused and not doc["terminal"] and now > due,
            actionable_roles=doc.get("actionable_roles", []),
        )


class DossierOut(TaskOut):
    terminal: bool
    receipt_number: str | None
    appointment_at: LocalTime | None
    remaining_working_hours: float | None = Field(
        description="Office hours left until the deadline (negative when overdue); None without a running deadline"
    )
    supplement_due_at: LocalTime | None
    supplement_items: list[str] | None
    decision: dict[str, Any] | None
    available_actions: list[str] = Field(description="What the caller may do now")
    history: list[HistoryEntry]

    @classmethod
    def build(
        cls,
        doc: Document,
        *,
        now: datetime,
        calendar: WorkCalendar,
        available: list[str],
        history: list[Document],
    ) -> DossierOut:
        task = TaskOut.of(doc, now)
        remaining = None
        if doc.get("due_at") is not None and not doc["terminal"]:
            # A paused clock shows what was left when it stopped.
            reference = doc.get("paused_at") or now
            remaining = round(calendar.remaining(reference, doc["due_at"]).total_seconds() / 3600, 2)
        return cls(
            **task.model_dump(),
            terminal=doc["terminal"],
            receipt_number=doc.get("receipt_number"),
            appointment_at=doc.get("appointment_at"),
            remaining_working_hours=remaining,
            supplement_due_at=doc.get("supplement_due_at"),
            supplement_items=doc.get("supplement_items"),
            decision=doc.get("decision"),
            available_actions=available,
            history=[HistoryEntry.of(step) for step in history],
        )


class ActionResult(BaseModel):
    dossier: DossierOut
    tracking_pin: str | None = Field(
        default=None, description="receive only: the applicant's tracking PIN, shown this once and stored hashed"
    )


class TaskPage(BaseModel):
    items: list[TaskOut]
    page: int
    page_size: int
    total: int


class WorkflowsOut(BaseModel):
    procedure_code: str
    workflows: list[dict[str, Any]]
