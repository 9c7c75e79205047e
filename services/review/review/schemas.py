"""Response bodies of review's HTTP API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer

from hoso.deadlines import VIETNAM, WorkCalendar
from hoso.events import PublicStatus
from hoso.events.status import status_label
from hoso.mongo import Document
from review.domain.definition import GrantedBy
from review.domain.engine import CLOCK

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


ClockState = Literal["none", "running", "due_soon", "overdue", "paused"]


def is_overdue(doc: Document, now: datetime) -> bool:
    """A dossier whose legal clock runs and has passed its due time."""
    return CLOCK.overdue(doc, now)


def clock_of(doc: Document, now: datetime, calendar: WorkCalendar, lead: timedelta) -> ClockState:
    """Where a dossier's legal clock stands: none (not started or ended), paused, overdue, due soon or running."""
    due = doc.get("due_at")
    if due is None or doc["terminal"]:
        return "none"
    if doc.get("paused_at") is not None:
        return "paused"
    if is_overdue(doc, now):
        return "overdue"
    return "due_soon" if calendar.remaining(now, due) <= lead else "running"


class TaskOut(BaseModel):
    dossier_id: str
    code: str
    agency_code: str
    procedure_code: str
    procedure_version: str
    workflow_id: str
    state: str
    state_label_vi: str = Field(description="The workflow state as its definition names it")
    state_label_en: str
    status_code: PublicStatus
    status_label_vi: str
    status_label_en: str
    applicant_name: str
    channel: str = Field(description="online, in_person (at the desk) or post")
    assignee_id: str | None
    opened_at: LocalTime
    received_at: LocalTime | None
    due_at: LocalTime | None
    clock_paused: bool
    overdue: bool
    clock: ClockState = Field(description="none, running, due_soon, overdue or paused")
    deadline_unit: str | None = Field(description="working_days, working_hours or calendar_days: how the law counts")
    remaining_working_hours: float | None = Field(
        description="Office hours left until the deadline (negative when overdue); None without a running deadline"
    )
    actionable_roles: list[str]

    @classmethod
    def of(
        cls, doc: Document, now: datetime, calendar: WorkCalendar, lead: timedelta, labels: tuple[str, str]
    ) -> TaskOut:
        status = PublicStatus(doc["status_code"])
        due = doc.get("due_at")
        clock = clock_of(doc, now, calendar, lead)
        remaining = None
        if clock != "none":
            # A paused clock shows what was left when it stopped.
            reference = doc.get("paused_at") or now
            remaining = round(calendar.remaining(reference, doc["due_at"]).total_seconds() / 3600, 2)
        deadline = doc.get("deadline")
        return cls(
            dossier_id=doc["_id"],
            code=doc["code"],
            agency_code=doc["agency_code"],
            procedure_code=doc["procedure_code"],
            procedure_version=doc["procedure_version"],
            workflow_id=doc["workflow_id"],
            state=doc["state"],
            state_label_vi=labels[0],
            state_label_en=labels[1],
            status_code=status,
            status_label_vi=status_label(status, "vi"),
            status_label_en=status_label(status, "en"),
            applicant_name=doc.get("applicant", {}).get("name", ""),
            channel=doc["channel"],
            assignee_id=doc.get("assignee_id"),
            opened_at=doc["opened_at"],
            received_at=doc.get("received_at"),
            due_at=due,
            clock_paused=clock == "paused",
            overdue=clock == "overdue",
            clock=clock,
            deadline_unit=deadline["unit"] if deadline else None,
            remaining_working_hours=remaining,
            actionable_roles=doc.get("actionable_roles", []),
        )


class ActionField(BaseModel):
    name: str
    kind: str = Field(
        description="text, lines, datetime, officer, money, choice, short_text or council (members with their "
        "roles, `choices`): how the desk asks it"
    )
    required: bool
    choices: list[str] | None = None
    min_items: int | None = Field(default=None, description="council: the fewest members the law allows")


class ActionForm(BaseModel):
    """An action the caller may take now, as the workflow definition describes it."""

    name: str
    label_vi: str
    label_en: str
    confirm: bool = Field(description="irreversible: ask the officer to confirm first")
    fields: list[ActionField]
    granted_by: GrantedBy | None = Field(
        default=None,
        description="extend_deadline: the authority the law lets extend the time limit, whose decision is recorded",
    )


class DossierOut(TaskOut):
    version: int = Field(description="Give it back as expected_version with an action: refused if it changed meanwhile")
    applicant_kind: str | None
    terminal: bool
    receipt_number: str | None
    appointment_at: LocalTime | None
    paused_at: LocalTime | None
    previous_due_at: LocalTime | None = Field(description="The deadline before the last extension")
    supplement_due_at: LocalTime | None
    supplement_items: list[str] | None
    proposal: dict[str, Any] | None
    fee_requested_vnd: int | None
    decision: dict[str, Any] | None
    returned_at: LocalTime | None
    fee_paid_at: LocalTime | None
    council: dict[str, Any] | None = Field(
        description="The appraisal council: decision_number, members (name, role, affiliation, account_id), "
        "reviews, site_surveys, consultations, met_at, conclusion, minutes"
    )
    revision_due_at: LocalTime | None = Field(description="Until when the project owner may send the revised report")
    revision_received_at: LocalTime | None
    available_actions: list[str] = Field(description="What the caller may do now")
    action_forms: list[ActionForm] = Field(description="The available actions with their labels and fields")
    history: list[HistoryEntry]

    @classmethod
    def build(
        cls,
        doc: Document,
        *,
        now: datetime,
        calendar: WorkCalendar,
        lead: timedelta,
        labels: tuple[str, str],
        available: list[dict[str, Any]],
        history: list[Document],
    ) -> DossierOut:
        task = TaskOut.of(doc, now, calendar, lead, labels)
        return cls(
            **task.model_dump(),
            version=doc["version"],
            applicant_kind=doc.get("applicant", {}).get("kind"),
            terminal=doc["terminal"],
            receipt_number=doc.get("receipt_number"),
            appointment_at=doc.get("appointment_at"),
            paused_at=doc.get("paused_at"),
            previous_due_at=doc.get("previous_due_at"),
            supplement_due_at=doc.get("supplement_due_at"),
            supplement_items=doc.get("supplement_items"),
            proposal=doc.get("proposal"),
            fee_requested_vnd=doc.get("fee_requested_vnd"),
            decision=doc.get("decision"),
            returned_at=doc.get("returned_at"),
            fee_paid_at=doc.get("fee_paid_at"),
            council=doc.get("council"),
            revision_due_at=doc.get("revision_due_at"),
            revision_received_at=doc.get("revision_received_at"),
            available_actions=[a["name"] for a in available],
            action_forms=[ActionForm.model_validate(a) for a in available],
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


class TaskCounts(BaseModel):
    """How many open dossiers of the officer's agency wait on each role, and how many are late or paused."""

    agency_code: str
    by_role: dict[str, int] = Field(description="Open dossiers on which each role can act now")
    assigned_to_me: int
    overdue: int
    due_soon: int
    paused: int
    open: int


class WorkflowsOut(BaseModel):
    procedure_code: str
    workflows: list[dict[str, Any]]
