"""The workflow engine: pure decisions over a workflow instance, its definition and the legal calendar.

Each decision returns a `Step` (fields to set, events to emit, a history record) or refuses with an error that says
why; nothing here does I/O. The instance document is the state; its events carry the public status code of the
state they lead to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hoso.auth import Principal, Role
from hoso.clock import ClockFields
from hoso.deadlines import VIETNAM, DeadlineUnit, WorkCalendar
from hoso.documents import Document
from hoso.errors import ImpossibleTransition
from hoso.events import Envelope, EventType, PublicStatus, new_event
from hoso.events.catalog import (
    SYSTEM_ACTOR,
    AppraisalStepName,
    Attachment,
    CouncilMember,
    DossierAppraisalRecorded,
    DossierApproved,
    DossierAssigned,
    DossierDeadlineExtended,
    DossierDecisionProposed,
    DossierDueSoon,
    DossierEventData,
    DossierFeeRequested,
    DossierOverdue,
    DossierProcessingResumed,
    DossierReceived,
    DossierRefused,
    DossierRejected,
    DossierResultReturned,
    DossierStopped,
    DossierSubmitted,
    DossierSupplementRequested,
    DossierWithdrawalAccepted,
    DossierWithdrawalRequested,
)
from hoso.pins import hash_pin, new_pin, seal_pin
from hoso.steps import Step, has_applied
from hoso.topics import DOSSIER_EVENTS
from review.domain.definition import (
    ActionName,
    Guard,
    IncomingEvent,
    Period,
    Timer,
    WorkflowDefinition,
)

SERVICE = "review"


class ActionRequest(BaseModel):
    """An officer's action on a dossier; which fields are needed depends on the action and the workflow."""

    model_config = ConfigDict(extra="forbid")

    action: ActionName
    reason: str | None = Field(default=None, min_length=1, max_length=4000)
    items: list[str] | None = Field(default=None, min_length=1, max_length=100)
    new_due_at: AwareDatetime | None = Field(
        default=None, description="extend_deadline: the new date; request_supplement: the supplement deadline"
    )
    assignee_id: str | None = Field(default=None, min_length=1, max_length=200)
    assignee_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="assign: the assignee's name, for the forms"
    )
    amount_vnd: int | None = Field(default=None, gt=0, le=10**12)
    proposal: Literal["approve", "reject"] | None = None
    decision_number: str | None = Field(default=None, min_length=1, max_length=100)
    members: list[CouncilMember] | None = Field(
        default=None, min_length=1, max_length=50, description="establish_council: the council's members"
    )
    conclusion: Literal["approve", "approve_with_revisions", "not_approve"] | None = Field(
        default=None, description="record_meeting: the council's conclusion; submit_review: the member's opinion"
    )
    attachment: Attachment | None = None
    expected_version: int | None = Field(
        default=None,
        ge=1,
        description="The dossier's version the officer saw; if it changed meanwhile the action is refused (409)",
    )


@dataclass(frozen=True)
class Context:
    definition: WorkflowDefinition
    calendar: WorkCalendar
    now: datetime
    seal_key: str | None = None
    due_soon_lead: timedelta = timedelta(hours=8)
    correlation_id: str | None = None


@dataclass(frozen=True)
class Decision:
    step: Step
    tracking_pin: str | None = None  # shown once, to the receiving officer


class Refusal(StrEnum):
    """Why the workflow refuses an officer's action."""

    NOT_PERMITTED = "not_permitted"  # their role, agency or assignment does not allow it
    WRONG_STATE = "wrong_state"  # not from the dossier's state
    CHANGED_MEANWHILE = "changed_meanwhile"  # the dossier moved on since the version they acted on
    INVALID = "invalid"  # what they gave is wrong or missing


class ActionRefused(Exception):
    """The workflow refuses an officer's action: why, a title and a detail for them, the fields at fault (`errors`)
    and the facts that help them act again (`facts`: state, status, version, allowed actions). The HTTP edge says
    how it answers each refusal."""

    def __init__(
        self, refusal: Refusal, title: str, detail: str, *, errors: list[dict[str, Any]] | None = None, **facts: Any
    ) -> None:
        super().__init__(detail)
        self.refusal = refusal
        self.title = title
        self.detail = detail
        self.errors = errors
        self.facts = facts


def not_permitted(detail: str) -> ActionRefused:
    return ActionRefused(Refusal.NOT_PERMITTED, "Not permitted", detail)


def wrong_state(action: str, doc: Document, definition: WorkflowDefinition) -> ActionRefused:
    possible = [a.value for a in definition.actions_in(doc["state"])]
    return ActionRefused(
        Refusal.WRONG_STATE,
        "Not possible in this state",
        f"{action} is not possible while the dossier is {doc['state']} (status {doc['status_code']}); "
        f"possible now: {', '.join(possible) or 'none'}",
        state=doc["state"],
        status_code=doc["status_code"],
        allowed_actions=possible,
    )


def changed_meanwhile(doc: Document, definition: WorkflowDefinition) -> ActionRefused:
    return ActionRefused(
        Refusal.CHANGED_MEANWHILE,
        "Changed meanwhile",
        f"the dossier changed since you saw it: it is now {doc['state']} (status {doc['status_code']}, version "
        f"{doc['version']}); look at it again before acting",
        state=doc["state"],
        status_code=doc["status_code"],
        version=doc["version"],
        allowed_actions=[a.value for a in definition.actions_in(doc["state"])],
    )


def invalid(field: str, message: str) -> ActionRefused:
    return ActionRefused(
        Refusal.INVALID,
        "Invalid action",
        f"{field}: {message}",
        errors=[{"field": field, "in": "body", "message": message}],
    )


# --- opening ---------------------------------------------------------------------------------------------------


def open_instance(event: Envelope, payload: DossierSubmitted, definition: WorkflowDefinition) -> Step:
    """A submitted dossier enters the reception queue of its competent agency."""
    initial = definition.states[definition.initial]
    fields: Document = {
        "code": payload.dossier_code,
        "agency_code": payload.agency_code,
        "procedure_code": payload.procedure_code,
        "procedure_version": payload.procedure_version,
        "workflow_id": definition.id,
        "applicant": {"id": payload.applicant.id, "kind": payload.applicant.kind, "name": payload.applicant.name},
        "channel": payload.channel,
        "state": definition.initial,
        "status_code": initial.status,
        "terminal": initial.terminal,
        "actionable_roles": definition.roles_in(definition.initial),
        "submitted_at": payload.submitted_at,
        "opened_at": event.time,
        "updated_at": event.time,
        "deadline": payload.deadline.model_dump() if payload.deadline else None,
        "supplement_policy": payload.supplement_policy or "pause",
        "supplement_deadline": payload.supplement_deadline.model_dump() if payload.supplement_deadline else None,
        "correlation_id": event.correlationid,
        "due_at": None,
        # The appointment date the receipt promised, moved by pauses only (extensions move `due_at` alone).
        "promised_at": None,
        "paused_at": None,
        "assignee_id": None,
    }
    record = {"kind": "event", "name": "dossier.submitted", "actor_id": payload.applicant.id, "at": event.time}
    record.update({"from": None, "to": definition.initial})
    return Step(fields=fields, applies_event=event.id, record=record)


# --- moving between states ---------------------------------------------------------------------------------------


def _unit(doc: Document) -> DeadlineUnit:
    deadline = doc.get("deadline")
    return DeadlineUnit(deadline["unit"]) if deadline else DeadlineUnit.WORKING_DAYS


def _move(doc: Document, to: str | None, ctx: Context, *, reset_clock: bool = False) -> Document:
    """Fields of entering state `to` (None: staying), with the legal clock paused or resumed as the state says."""
    target_name = to or doc["state"]
    target = ctx.definition.states[target_name]
    fields: Document = {
        "state": target_name,
        "status_code": target.status,
        "terminal": target.terminal,
        "actionable_roles": ctx.definition.roles_in(target_name),
        "updated_at": ctx.now,
    }
    paused = doc.get("paused_at") is not None
    if doc.get("due_at") is None or target.terminal:
        return fields
    if target.clock == "paused" and not paused:
        fields["paused_at"] = ctx.now
    elif target.clock == "running" and paused:
        deadline = doc.get("deadline")
        if reset_clock and deadline:
            fields["due_at"] = ctx.calendar.due(ctx.now, deadline["amount"], DeadlineUnit(deadline["unit"]))
            fields["promised_at"] = fields["due_at"]
        else:
            fields["due_at"] = ctx.calendar.paused(doc["due_at"], doc["paused_at"], ctx.now, _unit(doc))
            # An instance received before the promised date was kept has its due date, never extended then.
            promised = doc.get("promised_at") or doc["due_at"]
            fields["promised_at"] = ctx.calendar.paused(promised, doc["paused_at"], ctx.now, _unit(doc))
        fields["appointment_at"] = fields["due_at"]
        fields["paused_at"] = None
    return fields


CLOCK = ClockFields(due="due_at", running={"terminal": False, "paused_at": None})
"""Where an instance keeps its legal clock: it runs while the dossier is open and its state does not pause it."""


def clock_paused(doc: Document) -> bool:
    """Whether the dossier's legal clock has started and stands still (its state waits on the applicant)."""
    return doc.get("due_at") is not None and not doc["terminal"] and doc.get("paused_at") is not None


def _base(doc: Document, fields: Document) -> dict[str, Any]:
    """What every event of the step after `doc` carries: the dossier, the status the step's `fields` lead to, the
    version it makes and whether the legal clock stands still after it."""
    after = {**doc, **fields}
    return {
        "dossier_id": doc["_id"],
        "dossier_code": doc["code"],
        "procedure_code": doc["procedure_code"],
        "agency_code": doc["agency_code"],
        "status_code": PublicStatus(after["status_code"]),
        "workflow_version": doc["version"] + 1,
        "clock_paused": clock_paused(after),
    }


def _event(event_type: EventType, data: DossierEventData, ctx: Context, doc: Document) -> tuple[str, Envelope]:
    correlation = ctx.correlation_id or doc.get("correlation_id")
    return DOSSIER_EVENTS, new_event(event_type, data, service=SERVICE, correlation_id=correlation, time=ctx.now)


def _record(kind: str, name: str, actor: str, doc: Document, to: str, ctx: Context, **details: Any) -> Document:
    return {
        "kind": kind,
        "name": name,
        "actor_id": actor,
        "at": ctx.now,
        "from": doc["state"],
        "to": to,
        "details": {k: v for k, v in details.items() if v is not None},
    }


# --- officer actions ---------------------------------------------------------------------------------------------


def decide_action(doc: Document, request: ActionRequest, officer: Principal, ctx: Context) -> Decision:
    """Check role, agency, state and the action's requirements; the step that the action makes."""
    name = request.action
    if request.expected_version is not None and request.expected_version != doc["version"]:
        raise changed_meanwhile(doc, ctx.definition)
    rule = ctx.definition.action(name)
    if rule is None:
        raise ActionRefused(
            Refusal.INVALID,
            "Invalid action",
            f"action: {name.value} is not part of the {ctx.definition.id} workflow",
            errors=[{"field": "action", "in": "body", "message": "not part of this workflow"}],
        )
    acting_roles = {r.value for r in officer.roles}.intersection(rule.roles)
    if not acting_roles:
        raise not_permitted(f"{name.value} needs one of the roles {', '.join(rule.roles)}")
    if officer.agency != doc["agency_code"]:
        raise not_permitted(f"the dossier belongs to agency {doc['agency_code']}")
    if acting_roles == {Role.SPECIALIST.value} and doc.get("assignee_id") not in (None, officer.subject):
        raise not_permitted("the dossier is assigned to another specialist")
    if acting_roles == {Role.COUNCIL_MEMBER.value} and council_seat(doc, officer.subject) is None:
        raise not_permitted("you are not a member of this dossier's appraisal council")
    if doc["state"] not in rule.from_:
        raise wrong_state(name.value, doc, ctx.definition)
    required = ctx.definition.required(name)
    missing = sorted(r.value for r in required if getattr(request, r.value) in (None, []))
    if missing:
        raise ActionRefused(
            Refusal.INVALID,
            "Invalid action",
            f"{name.value} needs {', '.join(missing)}",
            errors=[{"field": f, "in": "body", "message": "required for this action"} for f in missing],
        )
    for guard in rule.guards:
        _check(Guard(guard), doc, request, ctx)
    decision: Decision = _ACTIONS[name](doc, request, officer, rule.to, ctx)
    return decision


def council_seat(doc: Document, account_id: str) -> dict[str, Any] | None:
    """The member of the dossier's appraisal council who takes part through the account `account_id`."""
    members = (doc.get("council") or {}).get("members") or []
    return next((m for m in members if m.get("account_id") == account_id), None)


def _not_yet(doc: Document, ctx: Context, detail: str) -> ActionRefused:
    return ActionRefused(
        Refusal.WRONG_STATE,
        "Not possible yet",
        detail,
        state=doc["state"],
        status_code=doc["status_code"],
        allowed_actions=[a.value for a in ctx.definition.actions_in(doc["state"])],
    )


def _check(guard: Guard, doc: Document, req: ActionRequest, ctx: Context) -> None:
    conclusion = (doc.get("council") or {}).get("conclusion")
    if guard is Guard.FEE_SETTLED:
        if doc.get("fee_requested_vnd") and doc.get("fee_paid_at") is None:
            raise _not_yet(doc, ctx, f"the appraisal fee of {doc['fee_requested_vnd']} VND is not paid yet")
    elif guard is Guard.COUNCIL_ASKED_REVISIONS:
        if conclusion != "approve_with_revisions":
            raise _not_yet(doc, ctx, "the council did not conclude that the report is to be revised")
    elif guard is Guard.PROPOSAL_FOLLOWS_COUNCIL:
        if conclusion == "approve" and req.proposal != "approve":
            raise invalid("proposal", "the council concluded to approve: propose approval")
        if conclusion == "not_approve" and req.proposal != "reject":
            raise invalid("proposal", "the council concluded not to approve: propose rejection")
        if conclusion == "approve_with_revisions" and doc.get("revision_received_at") is None:
            raise _not_yet(doc, ctx, "the revised report has not arrived yet")


def _receive(doc: Document, req: ActionRequest, officer: Principal, to: str | None, ctx: Context) -> Decision:
    deadline = doc.get("deadline")
    if deadline:
        # The clock starts at reception, from a complete dossier; after hours it starts the next working morning.
        due = ctx.calendar.due(ctx.now, deadline["amount"], DeadlineUnit(deadline["unit"]))
    elif req.new_due_at is not None:
        if req.new_due_at <= ctx.now:
            raise invalid("new_due_at", "the appointment date must be in the future")
        due = req.new_due_at
    else:
        raise invalid("new_due_at", "this procedure has no legal time limit: give the appointment date")
    pin = new_pin()
    pin_hash = hash_pin(pin)
    receipt = f"{doc['code']}/TN"
    fields = _move(doc, to, ctx)
    fields.update(
        received_at=ctx.now,
        receipt_number=receipt,
        due_at=due,
        appointment_at=due,
        promised_at=due,
        tracking_pin_hash=pin_hash,
        received_by=officer.subject,
    )
    data = DossierReceived(
        **_base(doc, fields),
        **_actor(officer),
        receipt_number=receipt,
        received_at=ctx.now,
        appointment_at=due,
        due_at=due,
        tracking_pin_hash=pin_hash,
        tracking_pin_sealed=seal_pin(pin, ctx.seal_key) if ctx.seal_key else None,
    )
    step = Step(
        fields=fields,
        events=[_event(EventType.DOSSIER_RECEIVED, data, ctx, doc)],
        record=_record("action", "receive", officer.subject, doc, fields["state"], ctx, receipt_number=receipt),
    )
    return Decision(step, tracking_pin=pin)


def _simple(
    event_type: EventType, data_of: Any, extra_fields: Any = None
) -> Any:  # a factory keeps the one-event actions to one line each below
    def decide(doc: Document, req: ActionRequest, officer: Principal, to: str | None, ctx: Context) -> Decision:
        fields = _move(doc, to, ctx)
        if extra_fields is not None:
            fields.update(extra_fields(doc, req, ctx))
        data = data_of(doc, req, officer, fields, ctx)
        given = req.model_dump(mode="json", exclude={"action", "expected_version"})
        details = {k: v for k, v in given.items() if v is not None}
        return Decision(
            Step(
                fields=fields,
                events=[_event(event_type, data, ctx, doc)],
                record=_record("action", req.action.value, officer.subject, doc, fields["state"], ctx, **details),
            )
        )

    return decide


def _officer(doc: Document, officer: Principal, fields: Document, req: ActionRequest) -> dict[str, Any]:
    return {**_base(doc, fields), **_actor(officer), "attachment": req.attachment}


def _actor(officer: Principal) -> dict[str, str]:
    """Who acted, as an event and the forms name them."""
    return {"actor_id": officer.subject, "actor_name": officer.name, "actor_title": officer.title}


def _supplement_due(doc: Document, req: ActionRequest, ctx: Context) -> Document:
    if req.new_due_at is not None:
        if req.new_due_at <= ctx.now:
            raise invalid("new_due_at", "the supplement deadline must be in the future")
        due = req.new_due_at
    elif doc.get("supplement_deadline"):
        sd = doc["supplement_deadline"]
        due = ctx.calendar.due(ctx.now, sd["amount"], DeadlineUnit(sd["unit"]))
    else:
        raise invalid("new_due_at", "this procedure sets no supplement deadline: give one")
    return {"supplement_due_at": due, "supplement_items": req.items}


def _extension(doc: Document, req: ActionRequest, ctx: Context) -> Document:
    assert req.new_due_at is not None
    if doc.get("due_at") is None:
        raise invalid("new_due_at", "the dossier has no deadline to extend yet")
    if req.new_due_at <= max(doc["due_at"], ctx.now):
        raise invalid("new_due_at", "the new date must be later than the current deadline and in the future")
    fields = {"due_at": req.new_due_at, "appointment_at": req.new_due_at, "previous_due_at": doc["due_at"]}
    if _granted(ctx):
        fields["promised_at"] = req.new_due_at  # the law's own extension: the new date is the promise
    elif req.decision_number is not None:
        raise invalid(
            "decision_number", "no authority grants this workflow's extensions: the agency extends with an apology"
        )
    return fields


def _granted(ctx: Context) -> dict[str, str]:
    """Who grants the workflow's extensions, as the event names them (nothing when the agency extends itself)."""
    rule = ctx.definition.action(ActionName.EXTEND_DEADLINE)
    if rule is None or rule.granted_by is None:
        return {}
    return {"granted_by": rule.granted_by.authority_vi, "article": rule.granted_by.article}


def months_after(moment: datetime, months: int) -> datetime:
    """The same time `months` calendar months later (in Vietnam), on the month's last day when it is shorter."""
    moment = moment.astimezone(VIETNAM)
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    last = (datetime(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last))


def period_end(ctx: Context, name: str, start: datetime) -> datetime:
    """When the definition's period `name` that starts at `start` ends."""
    period: Period = ctx.definition.periods[name]
    if period.unit == "months":
        return months_after(start, period.amount)
    return ctx.calendar.due(start, period.amount, DeadlineUnit(period.unit))


def _council_problems(members: list[CouncilMember], ctx: Context) -> list[str]:
    rules = ctx.definition.council
    assert rules is not None  # a definition with establish_council has council rules (checked at load)
    problems = []
    if len(members) < rules.min_members:
        problems.append(f"a council has at least {rules.min_members} members ({rules.article}); {len(members)} given")
    for role in rules.exactly_one:
        held = sum(m.role == role for m in members)
        if held != 1:
            problems.append(f"a council has exactly one {role}; {held} given")
    for role, least in rules.at_least.items():
        held = sum(m.role == role for m in members)
        if held < least:
            problems.append(f"a council has at least {least} {role}(s); {held} given")
    accounts = [m.account_id for m in members if m.account_id]
    if len(accounts) != len(set(accounts)):
        problems.append("an account sits on the council twice")
    return problems


def _appraisal(
    step: AppraisalStepName, fields_of: Any
) -> Any:  # the council's steps: one event type, the step named in it
    def decide(doc: Document, req: ActionRequest, officer: Principal, to: str | None, ctx: Context) -> Decision:
        fields = _move(doc, to, ctx)
        council, details = fields_of(doc, req, officer, ctx)
        fields["council"] = council
        data = DossierAppraisalRecorded(
            **_officer(doc, officer, fields, req), step=step, summary=req.reason or "", **details
        )
        given = req.model_dump(mode="json", exclude={"action", "expected_version"})
        return Decision(
            Step(
                fields=fields,
                events=[_event(EventType.DOSSIER_APPRAISAL_RECORDED, data, ctx, doc)],
                record=_record(
                    "action",
                    req.action.value,
                    officer.subject,
                    doc,
                    fields["state"],
                    ctx,
                    **{k: v for k, v in given.items() if v is not None},
                ),
            )
        )

    return decide


def _establish(doc: Document, req: ActionRequest, officer: Principal, ctx: Context) -> tuple[Document, dict[str, Any]]:
    assert req.members is not None
    problems = _council_problems(req.members, ctx)
    if problems:
        raise ActionRefused(
            Refusal.INVALID,
            "Invalid action",
            "members: " + "; ".join(problems),
            errors=[{"field": "members", "in": "body", "message": p} for p in problems],
        )
    members = [m.model_dump() for m in req.members]
    council = {
        "decision_number": req.decision_number,
        "members": members,
        "established_at": ctx.now,
        "reviews": [],
        "site_surveys": [],
        "consultations": [],
        "conclusion": None,
        "met_at": None,
    }
    return council, {"decision_number": req.decision_number, "members": req.members}


def _review(doc: Document, req: ActionRequest, officer: Principal, ctx: Context) -> tuple[Document, dict[str, Any]]:
    seat = council_seat(doc, officer.subject)
    assert seat is not None  # checked with the roles
    review = {
        "member_name": seat["name"],
        "role": seat["role"],
        "conclusion": req.conclusion,
        "summary": req.reason,  # the written review itself
        "at": ctx.now,
    }
    council = {**doc["council"], "reviews": [*doc["council"]["reviews"], review]}
    return council, {"member_name": seat["name"], "conclusion": req.conclusion}


def _survey(doc: Document, req: ActionRequest, officer: Principal, ctx: Context) -> tuple[Document, dict[str, Any]]:
    survey = {"at": ctx.now, "summary": req.reason}
    return {**doc["council"], "site_surveys": [*doc["council"]["site_surveys"], survey]}, {}


def _consultation(
    doc: Document, req: ActionRequest, officer: Principal, ctx: Context
) -> tuple[Document, dict[str, Any]]:
    """The views of agencies, organisations or experts the appraisal asked for, as the officer sums them up."""
    consultation = {"at": ctx.now, "summary": req.reason}
    return {**doc["council"], "consultations": [*doc["council"].get("consultations", []), consultation]}, {}


def _meeting(doc: Document, req: ActionRequest, officer: Principal, ctx: Context) -> tuple[Document, dict[str, Any]]:
    council = {**doc["council"], "conclusion": req.conclusion, "met_at": ctx.now, "minutes": req.reason}
    return council, {"conclusion": req.conclusion}


def _revision_due(doc: Document, req: ActionRequest, ctx: Context) -> Document:
    window = period_end(ctx, "revision", ctx.now)
    if req.new_due_at is not None:
        if req.new_due_at <= ctx.now:
            raise invalid("new_due_at", "the revision deadline must be in the future")
        if req.new_due_at > window:
            raise invalid("new_due_at", f"the revision window ends {window.isoformat()}: the deadline cannot be later")
    due = req.new_due_at or window
    return {"supplement_due_at": due, "supplement_items": req.items, "revision_due_at": due}


_ACTIONS = {
    ActionName.RECEIVE: _receive,
    ActionName.REFUSE: _simple(
        EventType.DOSSIER_REFUSED,
        lambda d, r, o, f, c: DossierRefused(**_officer(d, o, f, r), reason=r.reason),
    ),
    ActionName.ASSIGN: _simple(
        EventType.DOSSIER_ASSIGNED,
        lambda d, r, o, f, c: DossierAssigned(
            **_officer(d, o, f, r), assignee_id=r.assignee_id, assignee_name=r.assignee_name or ""
        ),
        lambda d, r, c: {"assignee_id": r.assignee_id},
    ),
    ActionName.REQUEST_SUPPLEMENT: _simple(
        EventType.DOSSIER_SUPPLEMENT_REQUESTED,
        lambda d, r, o, f, c: DossierSupplementRequested(
            **_officer(d, o, f, r), items=r.items, supplement_due_at=f["supplement_due_at"], reason=r.reason or ""
        ),
        _supplement_due,
    ),
    ActionName.REQUEST_FEE: _simple(
        EventType.DOSSIER_FEE_REQUESTED,
        lambda d, r, o, f, c: DossierFeeRequested(
            **_officer(d, o, f, r), amount=Decimal(r.amount_vnd), description=r.reason or ""
        ),
        lambda d, r, c: {"fee_requested_vnd": r.amount_vnd, "fee_paid_at": None},
    ),
    ActionName.ESTABLISH_COUNCIL: _appraisal("council_established", _establish),
    ActionName.SUBMIT_REVIEW: _appraisal("review_submitted", _review),
    ActionName.RECORD_SITE_SURVEY: _appraisal("site_surveyed", _survey),
    ActionName.RECORD_CONSULTATION: _appraisal("consulted", _consultation),
    ActionName.RECORD_MEETING: _appraisal("meeting_held", _meeting),
    ActionName.REQUEST_REVISION: _simple(
        EventType.DOSSIER_SUPPLEMENT_REQUESTED,
        lambda d, r, o, f, c: DossierSupplementRequested(
            **_officer(d, o, f, r),
            items=r.items,
            supplement_due_at=f["supplement_due_at"],
            reason=r.reason or "",
            purpose="revision",
        ),
        _revision_due,
    ),
    ActionName.PROPOSE_DECISION: _simple(
        EventType.DOSSIER_DECISION_PROPOSED,
        lambda d, r, o, f, c: DossierDecisionProposed(**_officer(d, o, f, r), proposal=r.proposal, summary=r.reason),
        lambda d, r, c: {"proposal": {"outcome": r.proposal, "summary": r.reason}},
    ),
    ActionName.APPROVE: _simple(
        EventType.DOSSIER_APPROVED,
        lambda d, r, o, f, c: DossierApproved(**_officer(d, o, f, r), decision_number=r.decision_number or ""),
        lambda d, r, c: {"decision": {"outcome": "approved", "number": r.decision_number, "at": c.now}},
    ),
    ActionName.REJECT: _simple(
        EventType.DOSSIER_REJECTED,
        lambda d, r, o, f, c: DossierRejected(**_officer(d, o, f, r), reason=r.reason),
        lambda d, r, c: {"decision": {"outcome": "rejected", "number": r.decision_number, "at": c.now}},
    ),
    ActionName.EXTEND_DEADLINE: _simple(
        EventType.DOSSIER_DEADLINE_EXTENDED,
        lambda d, r, o, f, c: DossierDeadlineExtended(
            **_officer(d, o, f, r),
            reason=r.reason,
            previous_due_at=f["previous_due_at"],
            new_due_at=f["due_at"],
            promised_at=f.get("promised_at", d.get("promised_at")),
            **_granted(c),
            decision_number=r.decision_number,
        ),
        _extension,
    ),
    ActionName.RETURN_RESULT: _simple(
        EventType.DOSSIER_RESULT_RETURNED,
        lambda d, r, o, f, c: DossierResultReturned(**_officer(d, o, f, r), returned_at=c.now),
        lambda d, r, c: {"returned_at": c.now},
    ),
    ActionName.STOP: _simple(
        EventType.DOSSIER_STOPPED,
        lambda d, r, o, f, c: DossierStopped(**_officer(d, o, f, r), reason=r.reason),
    ),
}

EMITS = [
    EventType.DOSSIER_RECEIVED,
    EventType.DOSSIER_REFUSED,
    EventType.DOSSIER_ASSIGNED,
    EventType.DOSSIER_SUPPLEMENT_REQUESTED,
    EventType.DOSSIER_FEE_REQUESTED,
    EventType.DOSSIER_APPRAISAL_RECORDED,
    EventType.DOSSIER_PROCESSING_RESUMED,
    EventType.DOSSIER_DECISION_PROPOSED,
    EventType.DOSSIER_APPROVED,
    EventType.DOSSIER_REJECTED,
    EventType.DOSSIER_DEADLINE_EXTENDED,
    EventType.DOSSIER_RESULT_RETURNED,
    EventType.DOSSIER_STOPPED,
    EventType.DOSSIER_WITHDRAWAL_ACCEPTED,
    EventType.DOSSIER_DUE_SOON,
    EventType.DOSSIER_OVERDUE,
]
"""The event types review's steps emit: its actions', the answers to intake's events and the legal clock's."""


# --- events from intake ------------------------------------------------------------------------------------------

_INCOMING = {
    EventType.DOSSIER_SUPPLEMENTED: IncomingEvent.SUPPLEMENTED,
    EventType.DOSSIER_FEE_PAID: IncomingEvent.FEE_PAID,
    EventType.DOSSIER_WITHDRAWAL_REQUESTED: IncomingEvent.WITHDRAWAL_REQUESTED,
}


def decide_event(doc: Document, event: Envelope, ctx: Context) -> Step | None:
    """The step an incoming event makes; None for a duplicate; ImpossibleTransition (dead-lettered) otherwise."""
    incoming = _INCOMING[event.type]
    if has_applied(doc, event.id):
        return None
    rule = ctx.definition.event(incoming, doc["state"])
    if rule is None:
        raise ImpossibleTransition(
            f"{incoming.value} cannot apply to dossier {doc['code']} in state {doc['state']} "
            f"(status {doc['status_code']}) of workflow {ctx.definition.id}"
        )
    reset = incoming is IncomingEvent.SUPPLEMENTED and doc.get("supplement_policy") == "reset"
    fields = _move(doc, rule.to, ctx, reset_clock=reset)
    revised = incoming is IncomingEvent.SUPPLEMENTED and doc.get("revision_due_at") is not None
    reason = "Đã nhận hồ sơ bổ sung" if incoming is IncomingEvent.SUPPLEMENTED else "Đã nộp phí"
    if incoming is IncomingEvent.SUPPLEMENTED:
        fields.update(supplement_due_at=None, supplement_items=None, revision_due_at=None)
    if revised:
        fields["revision_received_at"] = ctx.now
        reason = "Đã nhận báo cáo đã chỉnh sửa, bổ sung"
    if incoming is IncomingEvent.FEE_PAID:
        fields["fee_paid_at"] = ctx.now
    if rule.period is not None and not ctx.definition.states[fields["state"]].terminal:
        # A new time limit of its own (the approval after the revised report), counted from now.
        due = period_end(ctx, rule.period, ctx.now)
        fields.update(due_at=due, promised_at=due, appointment_at=due, paused_at=None)
    if incoming is IncomingEvent.WITHDRAWAL_REQUESTED:
        request = event.payload()
        assert isinstance(request, DossierWithdrawalRequested)
        accepted = DossierWithdrawalAccepted(**_base(doc, fields), answers_event=event.id, reason=request.reason)
        events = [_event(EventType.DOSSIER_WITHDRAWAL_ACCEPTED, accepted, ctx, doc)]
    else:
        data = DossierProcessingResumed(
            **_base(doc, fields),
            answers_event=event.id,
            due_at=fields.get("due_at", doc.get("due_at")),
            promised_at=fields.get("promised_at", doc.get("promised_at")),
            reason=reason,
            after="fee_paid" if incoming is IncomingEvent.FEE_PAID else "revised" if revised else "supplemented",
        )
        events = [_event(EventType.DOSSIER_PROCESSING_RESUMED, data, ctx, doc)]
    purpose = "revision" if revised else None  # the history names the revised report as one
    record = _record(
        "event", incoming.value, "applicant", doc, fields["state"], ctx, event_id=event.id, purpose=purpose
    )
    return Step(fields=fields, events=events, applies_event=event.id, record=record)


# --- timers ------------------------------------------------------------------------------------------------------


def decide_timers(doc: Document | None, ctx: Context) -> Step | None:
    """What time alone does to a dossier now: refusal after a missed supplement deadline, due soon, overdue."""
    if doc is None or doc["terminal"]:
        return None
    for timer, field, what in (
        (Timer.SUPPLEMENT_EXPIRED, "supplement_due_at", "bổ sung hồ sơ"),
        (Timer.REVISION_EXPIRED, "revision_due_at", "chỉnh sửa, bổ sung báo cáo"),
    ):
        expiry = ctx.definition.timer(timer)
        limit = doc.get(field)
        if expiry and doc["state"] in expiry.from_ and limit is not None and ctx.now > limit:
            return _expired(doc, timer, expiry.to, f"Quá thời hạn {what} ({_day(limit)}) mà chưa nhận được", ctx)
    due = doc.get("due_at")
    if due is None or doc.get("paused_at") is not None:
        return None
    base = _base(doc, {})
    if CLOCK.overdue(doc, ctx.now):
        if doc.get("overdue_for") == due:
            return None
        event = _event(EventType.DOSSIER_OVERDUE, DossierOverdue(**base, due_at=due), ctx, doc)
        timer_fields: Document = {"overdue_for": due, "due_soon_for": due}
        name = "overdue"
    elif ctx.calendar.remaining(ctx.now, due) <= ctx.due_soon_lead and doc.get("due_soon_for") != due:
        event = _event(EventType.DOSSIER_DUE_SOON, DossierDueSoon(**base, due_at=due), ctx, doc)
        timer_fields = {"due_soon_for": due}
        name = "due_soon"
    else:
        return None
    record = _record("timer", name, SYSTEM_ACTOR, doc, doc["state"], ctx, due_at=due.isoformat())
    return Step(fields=timer_fields, events=[event], record=record)


def _day(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y")


def _expired(doc: Document, timer: Timer, to: str | None, reason: str, ctx: Context) -> Step:
    """A waiting time that passed: a dossier never received is not received (status 3); a received one stops (8)."""
    assert to is not None  # timers lead to a state (checked at load)
    fields = _move(doc, to, ctx)
    fields.update(supplement_due_at=None, revision_due_at=None)
    base = {**_base(doc, fields), "actor_id": SYSTEM_ACTOR, "reason": reason}
    if fields["status_code"] == PublicStatus.NOT_RECEIVED:
        event = _event(EventType.DOSSIER_REFUSED, DossierRefused(**base), ctx, doc)
    else:
        event = _event(EventType.DOSSIER_STOPPED, DossierStopped(**base), ctx, doc)
    return Step(
        fields=fields,
        events=[event],
        record=_record("timer", timer.value, SYSTEM_ACTOR, doc, fields["state"], ctx),
    )
