"""Workflow definitions as data: states with their public status, officer actions, incoming events and timers.

A definition is refused at load, with every problem named, when a state cannot be reached, a non-terminal state
has no way out, a status code is outside 1-10, a role or action is unknown, or a transition names a missing state.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hoso.auth import Role
from hoso.events.catalog import CouncilRole

COUNCIL_ROLES: tuple[str, ...] = get_args(CouncilRole)
DEFINITIONS_DIR = Path(__file__).resolve().parents[1] / "workflows"


class ActionName(StrEnum):
    RECEIVE = "receive"
    REFUSE = "refuse"
    ASSIGN = "assign"
    REQUEST_SUPPLEMENT = "request_supplement"
    REQUEST_FEE = "request_fee"
    PROPOSE_DECISION = "propose_decision"
    APPROVE = "approve"
    REJECT = "reject"
    EXTEND_DEADLINE = "extend_deadline"
    RETURN_RESULT = "return_result"
    STOP = "stop"
    ESTABLISH_COUNCIL = "establish_council"
    SUBMIT_REVIEW = "submit_review"
    RECORD_SITE_SURVEY = "record_site_survey"
    RECORD_CONSULTATION = "record_consultation"
    RECORD_MEETING = "record_meeting"
    REQUEST_REVISION = "request_revision"


class Requirement(StrEnum):
    """What an officer must give with an action."""

    REASON = "reason"
    ITEMS = "items"
    ATTACHMENT = "attachment"
    NEW_DUE_AT = "new_due_at"
    ASSIGNEE = "assignee_id"
    AMOUNT = "amount_vnd"
    PROPOSAL = "proposal"
    DECISION_NUMBER = "decision_number"
    MEMBERS = "members"
    CONCLUSION = "conclusion"


# What each action can take at all; a definition may require any of these and nothing else.
ACCEPTS: dict[ActionName, frozenset[Requirement]] = {
    ActionName.RECEIVE: frozenset({Requirement.NEW_DUE_AT}),
    ActionName.REFUSE: frozenset({Requirement.REASON, Requirement.ATTACHMENT}),
    ActionName.ASSIGN: frozenset({Requirement.ASSIGNEE, Requirement.REASON}),
    ActionName.REQUEST_SUPPLEMENT: frozenset(
        {Requirement.ITEMS, Requirement.REASON, Requirement.NEW_DUE_AT, Requirement.ATTACHMENT}
    ),
    ActionName.REQUEST_FEE: frozenset({Requirement.AMOUNT, Requirement.REASON}),
    ActionName.PROPOSE_DECISION: frozenset({Requirement.PROPOSAL, Requirement.REASON, Requirement.ATTACHMENT}),
    ActionName.APPROVE: frozenset({Requirement.DECISION_NUMBER, Requirement.ATTACHMENT, Requirement.REASON}),
    ActionName.REJECT: frozenset({Requirement.REASON, Requirement.ATTACHMENT, Requirement.DECISION_NUMBER}),
    ActionName.EXTEND_DEADLINE: frozenset(
        {Requirement.REASON, Requirement.NEW_DUE_AT, Requirement.DECISION_NUMBER, Requirement.ATTACHMENT}
    ),
    ActionName.RETURN_RESULT: frozenset({Requirement.ATTACHMENT}),
    ActionName.STOP: frozenset({Requirement.REASON}),
    ActionName.ESTABLISH_COUNCIL: frozenset({Requirement.DECISION_NUMBER, Requirement.MEMBERS, Requirement.ATTACHMENT}),
    ActionName.SUBMIT_REVIEW: frozenset({Requirement.REASON, Requirement.CONCLUSION, Requirement.ATTACHMENT}),
    ActionName.RECORD_SITE_SURVEY: frozenset({Requirement.REASON, Requirement.ATTACHMENT}),
    ActionName.RECORD_CONSULTATION: frozenset({Requirement.REASON, Requirement.ATTACHMENT}),
    ActionName.RECORD_MEETING: frozenset({Requirement.CONCLUSION, Requirement.REASON, Requirement.ATTACHMENT}),
    ActionName.REQUEST_REVISION: frozenset(
        {Requirement.ITEMS, Requirement.REASON, Requirement.NEW_DUE_AT, Requirement.ATTACHMENT}
    ),
}
# How an officer gives each requirement on the desk (the portal draws a field of this kind).
REQUIREMENT_KINDS: dict[Requirement, str] = {
    Requirement.REASON: "text",
    Requirement.ITEMS: "lines",
    Requirement.ATTACHMENT: "attachment",
    Requirement.NEW_DUE_AT: "datetime",
    Requirement.ASSIGNEE: "officer",
    Requirement.AMOUNT: "money",
    Requirement.PROPOSAL: "choice",
    Requirement.DECISION_NUMBER: "short_text",
    Requirement.MEMBERS: "council",
    Requirement.CONCLUSION: "choice",
}
REQUIREMENT_CHOICES: dict[Requirement, list[str]] = {
    Requirement.PROPOSAL: ["approve", "reject"],
    Requirement.CONCLUSION: ["approve", "approve_with_revisions", "not_approve"],
    Requirement.MEMBERS: list(COUNCIL_ROLES),  # the roles a member may hold
}
# What each action needs whatever the definition says.
ALWAYS_REQUIRED: dict[ActionName, frozenset[Requirement]] = {
    ActionName.REFUSE: frozenset({Requirement.REASON}),
    ActionName.ASSIGN: frozenset({Requirement.ASSIGNEE}),
    ActionName.REQUEST_SUPPLEMENT: frozenset({Requirement.ITEMS}),
    ActionName.REQUEST_FEE: frozenset({Requirement.AMOUNT}),
    ActionName.PROPOSE_DECISION: frozenset({Requirement.PROPOSAL}),
    ActionName.REJECT: frozenset({Requirement.REASON}),
    ActionName.EXTEND_DEADLINE: frozenset({Requirement.REASON, Requirement.NEW_DUE_AT}),
    ActionName.STOP: frozenset({Requirement.REASON}),
    ActionName.ESTABLISH_COUNCIL: frozenset({Requirement.DECISION_NUMBER, Requirement.MEMBERS}),
    ActionName.SUBMIT_REVIEW: frozenset({Requirement.REASON, Requirement.CONCLUSION}),
    ActionName.RECORD_SITE_SURVEY: frozenset({Requirement.REASON}),
    ActionName.RECORD_CONSULTATION: frozenset({Requirement.REASON}),
    ActionName.RECORD_MEETING: frozenset({Requirement.CONCLUSION, Requirement.REASON}),
    ActionName.REQUEST_REVISION: frozenset({Requirement.ITEMS}),
}


class IncomingEvent(StrEnum):
    """Events from intake that move a workflow."""

    SUPPLEMENTED = "dossier.supplemented"
    FEE_PAID = "dossier.fee_paid"
    WITHDRAWAL_REQUESTED = "dossier.withdrawal_requested"


class Timer(StrEnum):
    SUPPLEMENT_EXPIRED = "supplement_expired"
    REVISION_EXPIRED = "revision_expired"


class Guard(StrEnum):
    """A condition an action needs besides its state, checked against what the dossier has recorded."""

    FEE_SETTLED = "fee_settled"  # no fee asked for and unpaid
    COUNCIL_ASKED_REVISIONS = "council_asked_revisions"  # the council concluded: approve subject to revisions
    PROPOSAL_FOLLOWS_COUNCIL = "proposal_follows_council"  # approve after approve (or the revised report), reject
    # after not approve


class DefinitionError(ValueError):
    """A workflow definition that cannot be used; the message names every problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class StateDef(_Strict):
    status: int
    terminal: bool = False
    clock: Literal["running", "paused"] = Field(
        default="running", description="paused: the legal time limit stands still in this state"
    )
    label_vi: str = ""
    label_en: str = ""
    retired: bool = Field(
        default=False,
        description="No action leads here any more; kept for the dossiers already in it, which leave it as before",
    )


class GrantedBy(_Strict):
    """An authority the law lets extend a time limit (not the agency itself): the officer records its decision."""

    authority_vi: str = Field(min_length=1)
    authority_en: str = Field(min_length=1)
    article: str = Field(min_length=1)
    uncertain: bool = False
    note: str = ""


class ActionDef(_Strict):
    from_: list[str] = Field(alias="from", min_length=1)
    to: str | None = Field(default=None, description="None: the state does not change")
    roles: list[str] = Field(min_length=1)
    requires: list[str] = Field(default_factory=list)
    label_vi: str = ""
    label_en: str = ""
    confirm: bool = Field(default=False, description="irreversible: the desk asks the officer to confirm it first")
    guards: list[str] = Field(default_factory=list, description="Guard names: what the action needs besides its state")
    granted_by: GrantedBy | None = Field(
        default=None,
        description="extend_deadline: the authority the law lets extend the time limit; the officer records its "
        "decision (number, document) and the promise moves with it. Without it the agency extends with an apology.",
    )


class TransitionDef(_Strict):
    from_: list[str] = Field(alias="from", min_length=1)
    to: str | None = Field(default=None, description="None: the state does not change")
    period: str | None = Field(
        default=None, description="A period of the definition that starts on this transition (a new time limit)"
    )


class Period(_Strict):
    """A time limit the law sets, with the article it comes from."""

    amount: int = Field(gt=0)
    unit: Literal["working_days", "working_hours", "calendar_days", "months"]
    article: str = Field(min_length=1)
    uncertain: bool = False
    note: str = ""


class CouncilRules(_Strict):
    """What an appraisal council must be: its size and the roles it must hold (each with its article)."""

    min_members: int = Field(ge=1)
    article: str = Field(min_length=1)
    exactly_one: list[str] = Field(default_factory=list, description="Roles held by one member, no more, no less")
    at_least: dict[str, int] = Field(default_factory=dict, description="Roles held by at least so many members")
    uncertain: bool = False
    note: str = ""


class AppliesTo(_Strict):
    procedure_code: str = Field(min_length=1)
    versions: list[str] = Field(default_factory=lambda: ["*"], min_length=1)


class WorkflowDefinition(_Strict):
    id: str = Field(min_length=1)
    title_vi: str = ""
    title_en: str = ""
    applies_to: list[AppliesTo] = Field(min_length=1)
    initial: str
    states: dict[str, StateDef] = Field(min_length=1)
    actions: dict[str, ActionDef] = Field(default_factory=dict)
    events: dict[str, TransitionDef | list[TransitionDef]] = Field(
        default_factory=dict, description="An event's transition, or several from different states"
    )
    timers: dict[str, TransitionDef] = Field(default_factory=dict)
    periods: dict[str, Period] = Field(
        default_factory=dict, description="Named time limits: `approval` (from the revised report), `revision` (window)"
    )
    council: CouncilRules | None = None

    def action(self, name: ActionName) -> ActionDef | None:
        return self.actions.get(name.value)

    def event(self, name: IncomingEvent, state: str) -> TransitionDef | None:
        """The transition the event `name` makes from `state`, if it applies there."""
        return next((t for t in self.transitions(name.value) if state in t.from_), None)

    def transitions(self, event: str) -> list[TransitionDef]:
        rules = self.events.get(event, [])
        return rules if isinstance(rules, list) else [rules]

    def timer(self, name: Timer) -> TransitionDef | None:
        return self.timers.get(name.value)

    def required(self, name: ActionName) -> frozenset[Requirement]:
        """What an officer must give with `name`: what the definition requires and what the action always needs."""
        rule = self.actions.get(name.value)
        listed = {Requirement(r) for r in rule.requires} if rule else set()
        if rule is not None and rule.granted_by is not None:
            listed.add(Requirement.DECISION_NUMBER)  # the decision of the authority that granted it
        return frozenset(listed | ALWAYS_REQUIRED.get(name, frozenset()))

    def offered(self, name: ActionName) -> frozenset[Requirement]:
        """What an officer may give with `name`: an extension takes a decision only where an authority grants it."""
        rule = self.actions.get(name.value)
        if name is ActionName.EXTEND_DEADLINE and (rule is None or rule.granted_by is None):
            return ACCEPTS[name] - {Requirement.DECISION_NUMBER}
        return ACCEPTS[name]

    def action_form(self, name: ActionName, *, legal_time_limit: bool = True) -> dict[str, object]:
        """What the desk needs to draw `name`: its labels, whether to confirm it, and its fields, required first.

        Without a legal time limit the receiving officer sets the appointment date; with one it follows from it."""
        rule = self.actions[name.value]
        required = self.required(name)
        if name is ActionName.RECEIVE and not legal_time_limit:
            required |= {Requirement.NEW_DUE_AT}
        offered = self.offered(name) - (
            {Requirement.NEW_DUE_AT} if name is ActionName.RECEIVE and legal_time_limit else set()
        )
        fields = [
            {
                "name": r.value,
                "kind": REQUIREMENT_KINDS[r],
                "required": r in required,
                **({"choices": REQUIREMENT_CHOICES[r]} if r in REQUIREMENT_CHOICES else {}),
                **({"min_items": self.council.min_members} if r is Requirement.MEMBERS and self.council else {}),
            }
            for r in sorted(Requirement, key=lambda r: r not in required)  # what it needs first
            if r in offered and REQUIREMENT_KINDS[r] != "attachment"
        ]
        return {
            "name": name.value,
            "label_vi": rule.label_vi or name.value,
            "label_en": rule.label_en or name.value,
            "confirm": rule.confirm,
            "fields": fields,
            **({"granted_by": rule.granted_by.model_dump()} if rule.granted_by else {}),
        }

    def actions_in(self, state: str) -> list[ActionName]:
        return [ActionName(n) for n, a in self.actions.items() if state in a.from_]

    def roles_in(self, state: str) -> list[str]:
        return sorted({role for n, a in self.actions.items() if state in a.from_ for role in a.roles})

    def applies(self, procedure_code: str, version: str) -> int | None:
        """How closely this definition matches (2: the exact version, 1: every version), None if not at all."""
        for rule in self.applies_to:
            if rule.procedure_code == procedure_code:
                if version in rule.versions:
                    return 2
                if "*" in rule.versions:
                    return 1
        return None


def problems_of(d: WorkflowDefinition) -> list[str]:
    problems: list[str] = []
    states = set(d.states)
    if d.initial not in states:
        problems.append(f"initial state {d.initial!r} is not a state")
    for name, state in d.states.items():
        if not 1 <= state.status <= 10:
            problems.append(f"state {name!r} has status code {state.status}, outside 1-10")
    roles = {r.value for r in Role}
    targets: dict[str, set[str]] = {s: set() for s in states}

    def check_transition(kind: str, name: str, sources: list[str], to: str | None) -> None:
        for source in sources:
            if source not in states:
                problems.append(f"{kind} {name!r} starts from unknown state {source!r}")
            elif to is not None:
                targets[source].add(to)
        if to is not None and to not in states:
            problems.append(f"{kind} {name!r} leads to unknown state {to!r}")

    for name, action in d.actions.items():
        if name not in ActionName.__members__.values():
            problems.append(f"unknown action {name!r} (known: {', '.join(a.value for a in ActionName)})")
            continue
        for role in action.roles:
            if role not in roles:
                problems.append(f"action {name!r} names unknown role {role!r}")
        accepted = {r.value for r in ACCEPTS[ActionName(name)]}
        for requirement in action.requires:
            if requirement not in accepted:
                problems.append(f"action {name!r} requires {requirement!r}, which it does not take")
        for guard in action.guards:
            if guard not in Guard.__members__.values():
                problems.append(f"action {name!r} names unknown guard {guard!r}")
        if action.granted_by is not None and name != ActionName.EXTEND_DEADLINE:
            problems.append(f"action {name!r} names who grants it: only 'extend_deadline' may")
        if name == ActionName.ESTABLISH_COUNCIL and d.council is None:
            problems.append("action 'establish_council' needs the definition's council rules")
        check_transition("action", name, action.from_, action.to)
    for name in d.events:
        if name not in IncomingEvent.__members__.values():
            problems.append(f"unknown event {name!r}")
        rules = d.transitions(name)
        sources = [source for rule in rules for source in rule.from_]
        for twice in sorted({s for s in sources if sources.count(s) > 1}):
            problems.append(f"event {name!r} has two transitions from {twice!r}")
        for rule in rules:
            check_transition("event", name, rule.from_, rule.to)
    for name, rule in d.timers.items():
        if name not in Timer.__members__.values():
            problems.append(f"unknown timer {name!r}")
        if rule.to is None:
            problems.append(f"timer {name!r} must lead to a state")
        check_transition("timer", name, rule.from_, rule.to)
    for kind, name, rule in [
        *(("event", n, r) for n in d.events for r in d.transitions(n)),
        *(("timer", n, r) for n, r in d.timers.items()),
    ]:
        if rule.period is not None and rule.period not in d.periods:
            problems.append(f"{kind} {name!r} starts unknown period {rule.period!r}")
    if Timer.REVISION_EXPIRED.value in d.timers and "revision" not in d.periods:
        problems.append("timer 'revision_expired' needs the period 'revision' (the revision window)")
    if d.council is not None:
        for role in [*d.council.exactly_one, *d.council.at_least]:
            if role not in COUNCIL_ROLES:
                problems.append(f"council rules name unknown role {role!r}")
    if problems:
        return problems
    reachable = _reachable(d.initial, targets)
    for name, state in d.states.items():
        if name not in reachable and not state.retired:
            problems.append(f"state {name!r} is unreachable from {d.initial!r}")
        if name in reachable and state.retired:
            problems.append(f"state {name!r} is retired but an action or event still leads to it")
        outgoing = targets[name] - {name}
        if not d.states[name].terminal and not outgoing:
            problems.append(f"state {name!r} is a dead end but not terminal")
        if d.states[name].terminal and outgoing:
            problems.append(f"terminal state {name!r} has transitions out of it")
    return problems


def _reachable(initial: str, targets: dict[str, set[str]]) -> set[str]:
    seen = {initial}
    queue = deque([initial])
    while queue:
        for nxt in targets[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def parse_definition(data: object, *, source: str) -> WorkflowDefinition:
    try:
        definition = WorkflowDefinition.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise DefinitionError(f"workflow {source}: {details}") from exc
    problems = problems_of(definition)
    if problems:
        raise DefinitionError(f"workflow {definition.id!r} ({source}): " + "; ".join(problems))
    return definition


def load_definitions(folder: Path = DEFINITIONS_DIR) -> list[WorkflowDefinition]:
    definitions = [
        parse_definition(yaml.safe_load(path.read_text(encoding="utf-8")), source=path.name)
        for path in sorted(folder.glob("*.yaml"))
    ]
    ids = [d.id for d in definitions]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise DefinitionError(f"workflow ids used twice: {', '.join(duplicates)}")
    return definitions


def definition_for(
    definitions: list[WorkflowDefinition], procedure_code: str, version: str
) -> WorkflowDefinition | None:
    """The definition of one procedure version: one naming the version wins over one for every version."""
    ranked = [(rank, d) for d in definitions if (rank := d.applies(procedure_code, version)) is not None]
    return max(ranked, key=lambda pair: pair[0])[1] if ranked else None
