"""The workflow engine's decisions, pure: roles, agencies, states, requirements, clocks and timers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet

from hoso.auth import Principal, Role
from hoso.deadlines import VIETNAM, WorkCalendar
from hoso.errors import ImpossibleTransition
from hoso.events import Envelope, EventType, PublicStatus, new_event
from hoso.events.catalog import DossierFeePaid, DossierSubmitted, DossierSupplemented, DossierWithdrawalRequested
from hoso.mongo import Document
from hoso.outbox import outbox_entries
from hoso.pins import unseal_pin, verify_pin
from hoso.steps import Step
from hoso.versioned import advance
from review.api import REFUSAL_STATUS, refusal_problem
from review.domain.definition import ActionName, definition_for, load_definitions
from review.domain.engine import (
    ActionRefused,
    ActionRequest,
    Context,
    Refusal,
    decide_action,
    decide_event,
    decide_timers,
    open_instance,
)
from tests.support import submitted_event

DEFINITIONS = load_definitions()
SEAL_KEY = Fernet.generate_key().decode()
AGENCY = "BNNMT"
RECEPTION = Principal(subject="tn-1", roles=frozenset({Role.RECEPTION_OFFICER}), agency=AGENCY)
SPECIALIST = Principal(subject="cv-1", roles=frozenset({Role.SPECIALIST}), agency=AGENCY)
OTHER_SPECIALIST = Principal(subject="cv-2", roles=frozenset({Role.SPECIALIST}), agency=AGENCY)
LEADER = Principal(subject="ld-1", roles=frozenset({Role.LEADER}), agency=AGENCY)
FOREIGN_LEADER = Principal(subject="ld-9", roles=frozenset({Role.LEADER}), agency="UBND.HN")


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VIETNAM)


def ctx(now: datetime, **kw: Any) -> Context:
    definition = definition_for(DEFINITIONS, "MT-DTM-BO", "2019")  # the generic workflow (Law 55/2014)
    assert definition is not None
    return Context(definition=definition, calendar=WorkCalendar(), now=now, seal_key=SEAL_KEY, **kw)


def apply(doc: Document | None, step: Step, at: datetime) -> Document:
    version = doc["version"] + 1 if doc else 1
    doc_id = doc["_id"] if doc else "d-1"
    return advance(
        doc,
        {
            "doc_id": doc_id,
            "version": version,
            "at": at,
            "fields": step.fields,
            "events": outbox_entries(step.events),
            "applies_event": step.applies_event,
        },
    )


def emitted(step: Step) -> list[tuple[str, dict[str, Any]]]:
    return [(event.type.short_name, event.data) for _, event in step.events]


def opened(**kw: Any) -> Document:
    event = submitted_event("d-1", **kw)
    payload = event.payload()
    assert isinstance(payload, DossierSubmitted)
    return apply(None, open_instance(event, payload, ctx(vn(2026, 11, 27, 9)).definition), vn(2026, 11, 27, 9))


def act(doc: Document, who: Principal, at: datetime, **body: Any) -> tuple[Document, Step, str | None]:
    decision = decide_action(doc, ActionRequest.model_validate(body), who, ctx(at))
    return apply(doc, decision.step, at), decision.step, decision.tracking_pin


def intake_event(doc: Document, event_type: EventType, **extra: Any) -> Envelope:
    base = {
        "dossier_id": doc["_id"],
        "dossier_code": doc["code"],
        "procedure_code": doc["procedure_code"],
        "agency_code": doc["agency_code"],
    }
    model: Any = {
        EventType.DOSSIER_SUPPLEMENTED: DossierSupplemented,
        EventType.DOSSIER_FEE_PAID: DossierFeePaid,
        EventType.DOSSIER_WITHDRAWAL_REQUESTED: DossierWithdrawalRequested,
    }[event_type]
    return new_event(event_type, model(**base, **extra), service="intake")


def test_a_submitted_dossier_waits_in_the_reception_queue_with_status_1() -> None:
    doc = opened()
    assert doc["state"] == "awaiting_reception"
    assert doc["status_code"] == 1
    assert doc["actionable_roles"] == ["reception_officer"]
    assert doc["due_at"] is None


def test_reception_after_hours_on_friday_starts_the_clock_on_monday_and_issues_a_hashed_pin() -> None:
    doc, step, pin = act(opened(), RECEPTION, vn(2026, 11, 27, 17, 5), action="receive")
    # 45 calendar days from Monday 30 November 2026: Thursday 14 January 2027, close of office.
    assert doc["due_at"] == vn(2027, 1, 14, 17)
    assert doc["status_code"] == 2
    [(kind, data)] = emitted(step)
    assert kind == "dossier.received"
    assert data["status_code"] == 2
    assert data["receipt_number"] == f"{doc['code']}/TN"
    assert pin is not None
    assert len(pin) == 8
    assert verify_pin(pin, doc["tracking_pin_hash"])
    assert not verify_pin("00000000", doc["tracking_pin_hash"])
    assert unseal_pin(data["tracking_pin_sealed"], SEAL_KEY) == pin
    assert pin not in json.dumps(doc, default=str)
    assert pin not in json.dumps(data)


@pytest.mark.parametrize(
    ("who", "body", "status", "named"),
    [
        (SPECIALIST, {"action": "receive"}, 403, "needs one of the roles reception_officer"),
        (FOREIGN_LEADER, {"action": "assign", "assignee_id": "cv-1"}, 403, "belongs to agency BNNMT"),
        (LEADER, {"action": "approve", "decision_number": "1/QĐ"}, 409, "possible now: receive, refuse"),
        (RECEPTION, {"action": "refuse"}, 422, "refuse needs reason"),
    ],
)
def test_an_action_checks_role_agency_state_and_requirements(
    who: Principal, body: dict[str, Any], status: int, named: str
) -> None:
    with pytest.raises(ActionRefused) as refused:
        act(opened(), who, vn(2026, 11, 30, 9), **body)
    assert REFUSAL_STATUS[refused.value.refusal] == status
    assert refusal_problem(refused.value).status == status
    assert named in refused.value.detail


def test_the_wrong_state_lists_the_actions_possible_now() -> None:
    with pytest.raises(ActionRefused) as refused:
        act(opened(), LEADER, vn(2026, 11, 30, 9), action="approve", decision_number="1/QĐ")
    assert refused.value.refusal is Refusal.WRONG_STATE
    assert refused.value.facts["allowed_actions"] == ["receive", "refuse"]
    assert refused.value.facts["state"] == "awaiting_reception"
    assert refusal_problem(refused.value).extra["allowed_actions"] == ["receive", "refuse"]


def received(at: datetime | None = None, **kw: Any) -> Document:
    doc, _, _ = act(opened(**kw), RECEPTION, at or vn(2026, 12, 1, 9), action="receive")
    return doc


def test_only_the_assigned_specialist_acts_on_an_assigned_dossier() -> None:
    doc, step, _ = act(received(), LEADER, vn(2026, 12, 1, 10), action="assign", assignee_id="cv-1")
    assert emitted(step)[0][1]["assignee_id"] == "cv-1"
    with pytest.raises(ActionRefused, match="assigned to another specialist"):
        act(doc, OTHER_SPECIALIST, vn(2026, 12, 1, 11), action="request_fee", amount_vnd=8_000_000)


def test_a_supplement_pauses_the_clock_and_the_due_date_moves_by_the_calendar_days_waited() -> None:
    doc = received()  # Tuesday 1 Dec 2026 09:00 + 45 calendar days -> Friday 15 Jan 2027 17:00
    assert doc["due_at"] == vn(2027, 1, 15, 17)
    doc, step, _ = act(
        doc, SPECIALIST, vn(2026, 12, 4, 9), action="request_supplement", items=["Bản đồ vị trí"], reason="Thiếu"
    )
    assert doc["status_code"] == 5
    assert doc["paused_at"] == vn(2026, 12, 4, 9)
    # The supplement deadline: 30 calendar days from Friday 4 Dec -> Monday 4 Jan 2027 (3 Jan is a Sunday).
    assert doc["supplement_due_at"] == vn(2027, 1, 4, 17)
    assert emitted(step)[0][0] == "dossier.supplement_requested"
    event = intake_event(doc, EventType.DOSSIER_SUPPLEMENTED, status_code=PublicStatus.PROCESSING, supplement_id="s1")
    step2 = decide_event(doc, event, ctx(vn(2026, 12, 14, 9)))
    assert step2 is not None
    doc = apply(doc, step2, vn(2026, 12, 14, 9))
    # Waited 10 calendar days: 15 Jan + 10 -> Monday 25 Jan 2027.
    assert doc["due_at"] == vn(2027, 1, 25, 17)
    assert doc["state"] == "in_appraisal"
    assert doc["paused_at"] is None
    [(kind, data)] = emitted(step2)
    assert kind == "dossier.processing_resumed"
    assert data["status_code"] == 4
    # The same event again changes nothing.
    assert decide_event(doc, event, ctx(vn(2026, 12, 14, 10))) is None


def test_the_promised_date_moves_with_a_pause_and_not_with_an_extension() -> None:
    doc = received()  # due and promised: Friday 15 Jan 2027 17:00
    assert doc["promised_at"] == vn(2027, 1, 15, 17)
    doc, _, _ = act(
        doc, LEADER, vn(2026, 12, 2, 9), action="extend_deadline", reason="Hội đồng cần khảo sát",
        new_due_at=vn(2027, 1, 29, 17),
    )  # fmt: skip
    assert (doc["due_at"], doc["promised_at"]) == (vn(2027, 1, 29, 17), vn(2027, 1, 15, 17))
    doc, _, _ = act(doc, SPECIALIST, vn(2026, 12, 4, 9), action="request_supplement", items=["Bản đồ"], reason="Thiếu")
    event = intake_event(doc, EventType.DOSSIER_SUPPLEMENTED, status_code=PublicStatus.PROCESSING, supplement_id="s1")
    step = decide_event(doc, event, ctx(vn(2026, 12, 14, 9)))
    assert step is not None
    doc = apply(doc, step, vn(2026, 12, 14, 9))
    # Ten calendar days waited move both: the extended due date (29 Jan + 10 is Monday 8 Feb, in the Tết holiday:
    # the next working day, Thursday 11 Feb) and the promise the statistics judge against (Monday 25 Jan).
    assert (doc["due_at"], doc["promised_at"]) == (vn(2027, 2, 11, 17), vn(2027, 1, 25, 17))
    [(kind, data)] = emitted(step)
    assert kind == "dossier.processing_resumed"
    assert data["promised_at"].startswith("2027-01-25T17:00")


def test_a_reset_policy_recomputes_the_deadline_from_the_supplement() -> None:
    doc = received(supplement_policy="reset")
    doc, _, _ = act(
        doc, SPECIALIST, vn(2026, 12, 4, 9), action="request_supplement", items=["Phụ lục"], reason="Thiếu phụ lục"
    )
    event = intake_event(doc, EventType.DOSSIER_SUPPLEMENTED, status_code=PublicStatus.PROCESSING, supplement_id="s")
    step = decide_event(doc, event, ctx(vn(2026, 12, 14, 9)))
    assert step is not None
    # 45 calendar days from Monday 14 Dec 2026 -> Thursday 28 Jan 2027.
    assert apply(doc, step, vn(2026, 12, 14, 9))["due_at"] == vn(2027, 1, 28, 17)


def test_an_impossible_transition_arriving_as_an_event_is_refused_for_the_dead_letter_topic() -> None:
    doc = received()
    event = intake_event(doc, EventType.DOSSIER_SUPPLEMENTED, status_code=PublicStatus.PROCESSING, supplement_id="s1")
    with pytest.raises(ImpossibleTransition, match=r"dossier\.supplemented cannot apply .* in state received"):
        decide_event(doc, event, ctx(vn(2026, 12, 2, 9)))


def test_withdrawal_waits_for_an_officer_to_stop_processing() -> None:
    doc = received()
    event = intake_event(
        doc, EventType.DOSSIER_WITHDRAWAL_REQUESTED, status_code=PublicStatus.WITHDRAWAL_REQUESTED, reason="Đổi dự án"
    )
    step = decide_event(doc, event, ctx(vn(2026, 12, 2, 9)))
    assert step is not None
    # Review acknowledges the request: intake shows status 7 from this step on, whatever came before it.
    [(kind, data)] = emitted(step)
    assert kind == "dossier.withdrawal_accepted"
    assert (data["status_code"], data["workflow_version"], data["reason"]) == (7, doc["version"] + 1, "Đổi dự án")
    doc = apply(doc, step, vn(2026, 12, 2, 9))
    assert doc["status_code"] == 7
    doc, stop, _ = act(doc, LEADER, vn(2026, 12, 2, 10), action="stop", reason="Theo yêu cầu rút hồ sơ")
    assert doc["status_code"] == 8
    assert doc["terminal"]
    assert emitted(stop)[0][0] == "dossier.stopped"


def test_every_event_review_emits_carries_the_version_its_step_makes_and_whether_the_clock_stands_still() -> None:
    at = vn(2026, 12, 1, 9)
    doc = opened()
    seen: list[tuple[str, int, int]] = []
    paused: list[bool] = []
    for who, body in (
        (RECEPTION, {"action": "receive"}),
        (LEADER, {"action": "assign", "assignee_id": "cv-1"}),
        (SPECIALIST, {"action": "request_supplement", "reason": "Thiếu bản đồ", "items": ["Bản đồ"]}),
    ):
        version = doc["version"]
        doc, step, _ = act(doc, who, at, **body)
        seen += [(kind, data["workflow_version"], version + 1) for kind, data in emitted(step)]
        paused += [data["clock_paused"] for _, data in emitted(step)]
    supplemented = intake_event(
        doc, EventType.DOSSIER_SUPPLEMENTED, status_code=PublicStatus.PROCESSING, supplement_id="s"
    )
    step = decide_event(doc, supplemented, ctx(at))
    assert step is not None
    seen += [(kind, data["workflow_version"], doc["version"] + 1) for kind, data in emitted(step)]
    paused += [data["clock_paused"] for _, data in emitted(step)]
    doc = apply(doc, step, at)
    overdue = decide_timers(doc, ctx(vn(2027, 3, 1, 9)))
    assert overdue is not None
    seen += [(kind, data["workflow_version"], doc["version"] + 1) for kind, data in emitted(overdue)]
    assert [kind for kind, _, _ in seen] == [
        "dossier.received", "dossier.assigned", "dossier.supplement_requested", "dossier.processing_resumed",
        "dossier.overdue",
    ]  # fmt: skip
    assert all(carried == made for _, carried, made in seen), seen
    paused += [data["clock_paused"] for _, data in emitted(overdue)]
    assert paused == [False, False, True, False, False]


def test_an_extension_needs_a_later_date_and_re_arms_the_timers() -> None:
    doc = received()
    with pytest.raises(ActionRefused, match="later than the current deadline"):
        act(doc, LEADER, vn(2026, 12, 2, 9), action="extend_deadline", reason="Hội đồng", new_due_at=vn(2027, 1, 1, 17))
    due = vn(2027, 1, 15, 17)
    at_due = decide_timers(doc, ctx(due))
    assert at_due is not None
    assert emitted(at_due)[0][0] == "dossier.due_soon"  # at its due time it is not yet late
    doc = apply(doc, at_due, due)
    past_due = due + timedelta(minutes=1)
    overdue = decide_timers(doc, ctx(past_due))
    assert overdue is not None
    assert emitted(overdue)[0][0] == "dossier.overdue"
    doc = apply(doc, overdue, past_due)
    assert decide_timers(doc, ctx(past_due + timedelta(hours=1))) is None  # once per deadline
    new_due = vn(2027, 2, 26, 17)
    doc, step, _ = act(
        doc, LEADER, vn(2027, 1, 16, 9), action="extend_deadline", reason="Hội đồng họp lại", new_due_at=new_due
    )
    [(kind, data)] = emitted(step)
    assert kind == "dossier.deadline_extended"
    assert data["previous_due_at"].startswith("2027-01-15")
    assert doc["due_at"] == new_due
    due_soon = decide_timers(doc, ctx(vn(2027, 2, 26, 9)))  # 8 office hours before
    assert due_soon is not None
    assert emitted(due_soon)[0][0] == "dossier.due_soon"
    doc = apply(doc, due_soon, vn(2027, 2, 26, 9))
    assert decide_timers(doc, ctx(vn(2027, 2, 26, 17))) is None  # due soon already said, not late yet
    late = decide_timers(doc, ctx(vn(2027, 2, 26, 17, 1)))
    assert late is not None
    assert emitted(late)[0][0] == "dossier.overdue"


def test_no_deadline_timer_fires_while_the_clock_is_paused_and_a_missed_supplement_deadline_stops() -> None:
    doc = received()
    doc, _, _ = act(
        doc, SPECIALIST, vn(2026, 12, 4, 9), action="request_supplement", items=["Phụ lục"], reason="Thiếu phụ lục"
    )
    assert decide_timers(doc, ctx(vn(2027, 1, 4, 16))) is None
    step = decide_timers(doc, ctx(vn(2027, 1, 4, 17, 1)))
    assert step is not None
    [(kind, data)] = emitted(step)
    # The dossier was received: processing stops (8), it is never "not received" (3).
    assert kind == "dossier.stopped"
    assert data["status_code"] == 8
    assert data["actor_id"] == "system"
    assert data["reason"] == "Quá thời hạn bổ sung hồ sơ (04/01/2027) mà chưa nhận được"
    assert apply(doc, step, vn(2027, 1, 4, 17, 1))["terminal"]


def test_the_whole_eia_path_emits_each_status_in_order() -> None:
    doc = received()
    statuses = [doc["status_code"]]
    steps = [
        (LEADER, {"action": "assign", "assignee_id": "cv-1"}),
        (SPECIALIST, {"action": "request_fee", "amount_vnd": 8_000_000}),
    ]
    at = vn(2026, 12, 2, 9)
    for who, body in steps:
        doc, _, _ = act(doc, who, at, **body)
        statuses.append(doc["status_code"])
    paid = intake_event(
        doc, EventType.DOSSIER_FEE_PAID, status_code=PublicStatus.PROCESSING, amount=8_000_000, payment_reference="p"
    )
    resumed = decide_event(doc, paid, ctx(at))
    assert resumed is not None
    doc = apply(doc, resumed, at)
    statuses.append(doc["status_code"])
    for who, body in [
        (SPECIALIST, {"action": "propose_decision", "proposal": "approve", "reason": "Đạt yêu cầu"}),
        (LEADER, {"action": "approve", "decision_number": "123/QĐ-BNNMT"}),
        (RECEPTION, {"action": "return_result"}),
    ]:
        doc, _step, _ = act(doc, who, at, **body)
        statuses.append(doc["status_code"])
    assert statuses == [2, 4, 4, 4, 4, 9, 10]  # waiting for the fee keeps status 4
    assert doc["terminal"]
    assert doc["decision"]["number"] == "123/QĐ-BNNMT"
    assert ActionName.RETURN_RESULT.value == "return_result"


def test_an_action_on_a_version_the_officer_did_not_see_is_refused_as_changed_meanwhile() -> None:
    doc = received()
    seen = doc["version"]
    doc, _, _ = act(doc, LEADER, vn(2026, 12, 1, 10), action="assign", assignee_id="cv-1")
    with pytest.raises(ActionRefused) as refused:
        act(doc, LEADER, vn(2026, 12, 1, 11), action="assign", assignee_id="cv-2", expected_version=seen)
    assert refused.value.refusal is Refusal.CHANGED_MEANWHILE
    assert refused.value.title == "Changed meanwhile"
    assert refused.value.facts["version"] == doc["version"]
    assert refused.value.facts["state"] == "in_appraisal"
    # Against the version it now has, the same action goes through, and the version is not kept in its record.
    doc, step, _ = act(
        doc, LEADER, vn(2026, 12, 1, 11), action="assign", assignee_id="cv-2", expected_version=doc["version"]
    )
    assert doc["assignee_id"] == "cv-2"
    assert "expected_version" not in step.record["details"]


def test_the_desk_is_told_each_available_action_with_its_labels_and_fields_from_the_definition() -> None:
    definition = ctx(vn(2026, 12, 1, 9)).definition
    extend = definition.action_form(ActionName.EXTEND_DEADLINE)
    assert extend["label_vi"] == "Gia hạn (kèm thư xin lỗi)"
    assert extend["confirm"] is False
    assert extend["fields"] == [
        {"name": "reason", "kind": "text", "required": True},
        {"name": "new_due_at", "kind": "datetime", "required": True},
    ]
    approve = definition.action_form(ActionName.APPROVE)
    assert approve["confirm"] is True
    assert {f["name"]: f["required"] for f in approve["fields"]} == {"reason": False, "decision_number": True}
    propose = definition.action_form(ActionName.PROPOSE_DECISION)
    assert {"name": "proposal", "kind": "choice", "required": True, "choices": ["approve", "reject"]} in propose[
        "fields"
    ]
    # Optional fields an action takes are offered too (the supplement deadline, set by the procedure otherwise).
    supplement = {f["name"]: f for f in definition.action_form(ActionName.REQUEST_SUPPLEMENT)["fields"]}
    assert supplement["items"]["kind"] == "lines"
    assert supplement["new_due_at"]["required"] is False


def test_the_receiving_officer_is_asked_for_an_appointment_date_only_without_a_legal_time_limit() -> None:
    definition = ctx(vn(2026, 12, 1, 9)).definition
    assert definition.action_form(ActionName.RECEIVE)["fields"] == []
    assert definition.action_form(ActionName.RECEIVE, legal_time_limit=False)["fields"] == [
        {"name": "new_due_at", "kind": "datetime", "required": True}
    ]
