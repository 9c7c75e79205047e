"""An EIA appraisal as Law 72/2020 Art. 34 runs it: completeness at reception, the council, the revision window, the
approval's own time limit. Dated examples; the calendar's holidays are Vietnam's."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import yaml

from hoso.auth import Principal, Role
from hoso.deadlines import VIETNAM, WorkCalendar
from hoso.events import EventType, PublicStatus
from hoso.events.catalog import DeadlineTerms, DossierSubmitted
from hoso.mongo import Document
from review.domain.definition import (
    DEFINITIONS_DIR,
    ActionName,
    DefinitionError,
    definition_for,
    load_definitions,
    parse_definition,
)
from review.domain.engine import (
    ActionRefused,
    ActionRequest,
    Context,
    Refusal,
    decide_action,
    decide_event,
    decide_timers,
    months_after,
    open_instance,
)
from tests.support import submitted_event
from tests.unit.test_review_engine import apply, emitted, intake_event

DEFINITIONS = load_definitions()
AGENCY = "UBND.DN"
RECEPTION = Principal(subject="tn-1", roles=frozenset({Role.RECEPTION_OFFICER}), agency=AGENCY)
SPECIALIST = Principal(subject="cv-1", roles=frozenset({Role.SPECIALIST}), agency=AGENCY)
LEADER = Principal(subject="ld-1", roles=frozenset({Role.LEADER}), agency=AGENCY)
EXPERT = Principal(subject="expert-1", roles=frozenset({Role.COUNCIL_MEMBER}), agency=AGENCY, name="GS. Trần Bình")
OUTSIDER = Principal(subject="expert-9", roles=frozenset({Role.COUNCIL_MEMBER}), agency=AGENCY)
GROUP_II = DeadlineTerms(amount=30, unit="calendar_days")

COUNCIL = [
    {"name": "Nguyễn Văn Chủ", "role": "chair", "affiliation": "Sở Nông nghiệp và Môi trường"},
    {"name": "Lê Thị Phó", "role": "vice_chair"},
    {"name": "Phạm Văn Thư", "role": "secretary"},
    {"name": "GS. Trần Bình", "role": "reviewer", "affiliation": "Đại học Đà Nẵng", "account_id": "expert-1"},
    {"name": "TS. Hồ Minh", "role": "reviewer", "account_id": "expert-2"},
    {"name": "Võ Thị Một", "role": "member"},
    {"name": "Đặng Văn Hai", "role": "member"},
]


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VIETNAM)


def ctx(now: datetime) -> Context:
    definition = definition_for(DEFINITIONS, "MT-DTM-TINH", "2022")
    assert definition is not None
    return Context(definition=definition, calendar=WorkCalendar(), now=now)


def opened() -> Document:
    event = submitted_event(
        "d-1", agency=AGENCY, procedure_code="MT-DTM-TINH", procedure_version="2022", deadline=GROUP_II
    )
    payload = event.payload()
    assert isinstance(payload, DossierSubmitted)
    at = vn(2026, 11, 27, 9)
    return apply(None, open_instance(event, payload, ctx(at).definition), at)


def act(doc: Document, who: Principal, at: datetime, **body: Any) -> tuple[Document, list[tuple[str, Any]]]:
    step = decide_action(doc, ActionRequest.model_validate(body), who, ctx(at)).step
    return apply(doc, step, at), emitted(step)


def refused(doc: Document, who: Principal, at: datetime, **body: Any) -> ActionRefused:
    with pytest.raises(ActionRefused) as caught:
        decide_action(doc, ActionRequest.model_validate(body), who, ctx(at))
    return caught.value


def event(doc: Document, at: datetime, event_type: EventType, **extra: Any) -> tuple[Document, list[Any]]:
    step = decide_event(doc, intake_event(doc, event_type, **extra), ctx(at))
    assert step is not None
    return apply(doc, step, at), emitted(step)


def supplemented(doc: Document, at: datetime) -> tuple[Document, list[Any]]:
    return event(doc, at, EventType.DOSSIER_SUPPLEMENTED, status_code=PublicStatus.PROCESSING, supplement_id="s")


def history_detail(doc: Document, at: datetime) -> dict[str, Any]:
    """What the history keeps of a supplement arriving at `at`, besides the event's id."""
    incoming = intake_event(doc, EventType.DOSSIER_SUPPLEMENTED, status_code=PublicStatus.PROCESSING, supplement_id="s")
    step = decide_event(doc, incoming, ctx(at))
    assert step is not None
    assert step.record is not None
    return {k: v for k, v in step.record["details"].items() if k != "event_id"}


def in_council(fee: bool = False) -> Document:
    doc, _ = act(opened(), RECEPTION, vn(2026, 12, 3, 9), action="receive")
    doc, _ = act(doc, LEADER, vn(2026, 12, 3, 10), action="assign", assignee_id="cv-1")
    if fee:
        doc, _ = act(doc, SPECIALIST, vn(2026, 12, 3, 11), action="request_fee", amount_vnd=8_000_000)
    doc, _ = act(
        doc, LEADER, vn(2026, 12, 7, 9), action="establish_council", decision_number="12/QĐ-SNNMT", members=COUNCIL
    )
    return doc


def concluded(conclusion: str) -> Document:
    doc, _ = act(
        in_council(), SPECIALIST, vn(2026, 12, 22, 15), action="record_meeting", conclusion=conclusion, reason="BB"
    )
    return doc


def test_the_eia_versions_of_the_new_law_follow_the_council_workflow_and_the_old_ones_do_not() -> None:
    def workflow(code: str, version: str) -> str:
        found = definition_for(DEFINITIONS, code, version)
        assert found is not None
        return found.id

    assert workflow("MT-DTM-TINH", "2022") == "eia_appraisal"
    assert workflow("MT-DTM-BO", "2022") == "eia_appraisal"
    assert workflow("MT-DTM-BO", "2025-01") == "eia_appraisal"
    assert workflow("MT-DTM-BO", "2025-03") == "eia_appraisal"
    assert workflow("MT-DTM-BO", "2015") == "appraisal"  # Law 55/2014
    definition = ctx(vn(2026, 1, 1)).definition
    assert definition.council is not None
    assert definition.council.min_members == 7
    assert definition.council.article == "Law 72/2020/QH14 Art. 34(3)(a)"
    assert definition.periods["approval"].amount == 20
    assert definition.periods["approval"].unit == "calendar_days"
    assert definition.periods["revision"].amount == 12
    assert not definition.periods["revision"].uncertain  # the decree's text, as quoted


def test_an_incomplete_dossier_waits_unreceived_and_its_clock_starts_from_the_complete_one() -> None:
    doc, events = act(
        opened(),
        RECEPTION,
        vn(2026, 11, 27, 10),
        action="request_supplement",
        items=["Bản vẽ mặt bằng"],
        reason="Thiếu",
    )
    assert (doc["state"], doc["status_code"], doc["due_at"]) == ("awaiting_completion", 5, None)
    assert events[0][0] == "dossier.supplement_requested"
    assert events[0][1]["purpose"] == "supplement"
    assert history_detail(doc, vn(2026, 12, 2, 9)) == {}
    doc, events = supplemented(doc, vn(2026, 12, 2, 9))
    assert (doc["state"], doc["status_code"], doc["due_at"]) == ("awaiting_reception", 1, None)
    assert events[0][1]["reason"] == "Đã nhận hồ sơ bổ sung"
    # Received complete on Thursday 3 December 2026: 30 days end on Saturday 2 January 2027, after New Year's Day;
    # the limit falls on the next working day, Monday 4 January.
    doc, _ = act(doc, RECEPTION, vn(2026, 12, 3, 9), action="receive")
    assert doc["due_at"] == vn(2027, 1, 4, 17) == doc["promised_at"]


def test_a_missed_completion_deadline_leaves_the_dossier_not_received() -> None:
    doc, _ = act(
        opened(), RECEPTION, vn(2026, 11, 27, 10), action="request_supplement", items=["Bản vẽ"], reason="Thiếu"
    )
    # 30 calendar days (the procedure's supplement deadline) from Friday 27 November: Sunday 27 December -> Monday.
    assert doc["supplement_due_at"] == vn(2026, 12, 28, 17)
    step = decide_timers(doc, ctx(vn(2026, 12, 28, 17, 1)))
    assert step is not None
    [(kind, data)] = emitted(step)
    assert (kind, data["status_code"]) == ("dossier.refused", 3)  # never received: not received


def test_the_council_needs_the_members_the_law_sets_with_one_chair_and_one_secretary() -> None:
    doc = in_council()
    council = doc["council"]
    assert doc["state"] == "council_review"
    assert doc["status_code"] == 4
    assert council["decision_number"] == "12/QĐ-SNNMT"
    assert len(council["members"]) == 7
    doc, _ = act(opened(), RECEPTION, vn(2026, 12, 3, 9), action="receive")
    doc, _ = act(doc, LEADER, vn(2026, 12, 3, 10), action="assign", assignee_id="cv-1")
    cases = [
        (COUNCIL[:6], "at least 7 members (Law 72/2020/QH14 Art. 34(3)(a)); 6 given"),
        ([*COUNCIL[1:], {"name": "X", "role": "member"}], "exactly one chair; 0 given"),
        ([*COUNCIL, {"name": "Y", "role": "secretary"}], "exactly one secretary; 2 given"),
        ([m if m["role"] != "reviewer" else {**m, "role": "member"} for m in COUNCIL], "at least 1 reviewer(s)"),
        ([*COUNCIL, {"name": "Z", "role": "member", "account_id": "expert-1"}], "an account sits on the council"),
    ]
    for members, message in cases:
        refusal = refused(
            doc, LEADER, vn(2026, 12, 7, 9), action="establish_council", decision_number="1", members=members
        )
        assert refusal.refusal is Refusal.INVALID
        assert refusal.errors
        assert refusal.errors[0]["field"] == "members"
        assert message in refusal.detail, refusal.detail


def test_a_council_member_reviews_through_their_own_account_on_their_own_council_only() -> None:
    doc = in_council()
    refusal = refused(doc, OUTSIDER, vn(2026, 12, 10, 9), action="submit_review", conclusion="approve", reason="Đạt")
    assert refusal.refusal is Refusal.NOT_PERMITTED
    doc, events = act(
        doc, EXPERT, vn(2026, 12, 10, 9), action="submit_review", conclusion="approve_with_revisions", reason="Bổ sung"
    )
    assert doc["state"] == "council_review"
    [(kind, data)] = events
    assert kind == "dossier.appraisal_recorded"
    assert (data["step"], data["member_name"], data["conclusion"]) == (
        "review_submitted",
        "GS. Trần Bình",
        "approve_with_revisions",
    )
    assert doc["council"]["reviews"][0]["role"] == "reviewer"
    assert doc["council"]["reviews"][0]["summary"] == "Bổ sung"  # the written review is kept with the council
    doc, events = act(doc, SPECIALIST, vn(2026, 12, 15, 9), action="record_site_survey", reason="Khảo sát khu đất")
    assert events[0][1]["step"] == "site_surveyed"
    assert doc["council"]["site_surveys"][0]["summary"] == "Khảo sát khu đất"
    # The views asked of the agencies, organisations and experts concerned, recorded with the council.
    missing = refused(doc, SPECIALIST, vn(2026, 12, 16, 9), action="record_consultation")
    assert missing.errors == [{"field": "reason", "in": "body", "message": "required for this action"}]
    said = "Sở Xây dựng: thống nhất; UBND xã Cẩm Phả: đề nghị bổ sung tuyến thoát nước"
    doc, events = act(doc, SPECIALIST, vn(2026, 12, 16, 9), action="record_consultation", reason=said)
    assert (doc["state"], events[0][1]["step"], events[0][1]["summary"]) == ("council_review", "consulted", said)
    assert doc["council"]["consultations"] == [{"at": vn(2026, 12, 16, 9), "summary": said}]
    assert refused(doc, EXPERT, vn(2026, 12, 16, 9), action="record_consultation", reason="x").refusal is (
        Refusal.NOT_PERMITTED
    )
    # A council member cannot take the officers' steps.
    assert (
        refused(doc, EXPERT, vn(2026, 12, 15, 9), action="record_meeting", conclusion="approve", reason="x").refusal
        is Refusal.NOT_PERMITTED
    )


def test_the_fee_runs_beside_the_clock_and_the_council_meets_only_once_it_is_paid() -> None:
    doc = in_council(fee=True)
    assert doc["paused_at"] is None
    assert doc["state"] == "council_review"
    refusal = refused(doc, SPECIALIST, vn(2026, 12, 22, 15), action="record_meeting", conclusion="approve", reason="BB")
    assert refusal.refusal is Refusal.WRONG_STATE
    assert "8000000 VND is not paid yet" in refusal.detail
    doc, events = event(
        doc,
        vn(2026, 12, 21, 9),
        EventType.DOSSIER_FEE_PAID,
        status_code=PublicStatus.PROCESSING,
        amount=8_000_000,
        payment_reference="r",
    )
    assert doc["state"] == "council_review"
    assert doc["due_at"] == vn(2027, 1, 4, 17)
    assert events[0][0] == "dossier.processing_resumed"
    assert events[0][1]["reason"] == "Đã nộp phí"
    doc, events = act(doc, SPECIALIST, vn(2026, 12, 22, 15), action="record_meeting", conclusion="approve", reason="BB")
    assert doc["state"] == "council_concluded"
    assert events[0][1]["conclusion"] == "approve"


def test_the_proposal_follows_the_council_conclusion() -> None:
    approved = concluded("approve")
    assert refused(
        approved, SPECIALIST, vn(2026, 12, 23, 9), action="propose_decision", proposal="reject", reason="x"
    ).errors == [{"field": "proposal", "in": "body", "message": "the council concluded to approve: propose approval"}]
    assert (
        refused(approved, SPECIALIST, vn(2026, 12, 23, 9), action="request_revision", items=["x"], reason="x").refusal
        is Refusal.WRONG_STATE
    )
    doc, _ = act(approved, SPECIALIST, vn(2026, 12, 23, 9), action="propose_decision", proposal="approve", reason="Đạt")
    assert doc["state"] == "awaiting_decision"
    not_approved = concluded("not_approve")
    assert (
        refused(
            not_approved, SPECIALIST, vn(2026, 12, 23, 9), action="propose_decision", proposal="approve", reason="x"
        ).refusal
        is Refusal.INVALID
    )
    with_revisions = concluded("approve_with_revisions")
    refusal = refused(
        with_revisions, SPECIALIST, vn(2026, 12, 23, 9), action="propose_decision", proposal="approve", reason="x"
    )
    assert "the revised report has not arrived yet" in refusal.detail


def test_revision_excludes_the_owners_time_and_the_approval_runs_twenty_days_from_the_revised_report() -> None:
    doc = concluded("approve_with_revisions")
    doc, events = act(
        doc,
        SPECIALIST,
        vn(2026, 12, 23, 9),
        action="request_revision",
        items=["Chương 3: tính lại tải lượng"],
        reason="Theo kết luận",
    )
    assert (doc["state"], doc["status_code"], doc["paused_at"]) == ("awaiting_revision", 5, vn(2026, 12, 23, 9))
    # Up to twelve months from the notice (Decree 08/2022 Art. 27(1) as read).
    assert doc["revision_due_at"] == vn(2027, 12, 23, 9)
    [(kind, data)] = events
    assert (kind, data["purpose"], data["clock_paused"]) == ("dossier.supplement_requested", "revision", True)
    assert decide_timers(doc, ctx(vn(2027, 3, 1, 9))) is None  # no overdue while the owner revises
    # The revised report arrives on Monday 15 February 2027, after Tết: 20 days end on Sunday 7 March -> Monday 8.
    assert history_detail(doc, vn(2027, 2, 15, 9)) == {"purpose": "revision"}  # the desk's history names it
    doc, events = supplemented(doc, vn(2027, 2, 15, 9))
    assert (doc["state"], doc["paused_at"]) == ("revised", None)
    assert doc["due_at"] == doc["promised_at"] == vn(2027, 3, 8, 17)
    assert doc["revision_received_at"] == vn(2027, 2, 15, 9)
    assert events[0][1]["reason"] == "Đã nhận báo cáo đã chỉnh sửa, bổ sung"
    assert events[0][1]["after"] == "revised"  # the timeline names it: the revised report taken in
    assert events[0][1]["due_at"] == vn(2027, 3, 8, 17).isoformat()
    doc, _ = act(doc, SPECIALIST, vn(2027, 2, 20, 9), action="propose_decision", proposal="approve", reason="Đạt")
    doc, events = act(doc, LEADER, vn(2027, 2, 22, 9), action="approve", decision_number="45/QĐ-UBND")
    assert (doc["state"], doc["status_code"]) == ("decided", 9)


def test_a_revision_window_that_passes_stops_processing_never_not_received() -> None:
    doc = concluded("approve_with_revisions")
    doc, _ = act(doc, SPECIALIST, vn(2026, 12, 23, 9), action="request_revision", items=["Chương 3"], reason="x")
    assert decide_timers(doc, ctx(vn(2027, 12, 23, 9))) is None
    step = decide_timers(doc, ctx(vn(2027, 12, 23, 9, 1)))
    assert step is not None
    [(kind, data)] = emitted(step)
    assert (kind, data["status_code"], data["actor_id"]) == ("dossier.stopped", 8, "system")
    assert data["reason"] == "Quá thời hạn chỉnh sửa, bổ sung báo cáo (23/12/2027) mà chưa nhận được"
    assert apply(doc, step, vn(2027, 12, 23, 9, 1))["terminal"]


def test_a_revision_deadline_the_officer_sets_stays_within_the_window() -> None:
    doc = concluded("approve_with_revisions")
    late = vn(2028, 1, 10, 9)
    refusal = refused(
        doc, SPECIALIST, vn(2026, 12, 23, 9), action="request_revision", items=["x"], reason="x", new_due_at=late
    )
    assert refusal.errors
    assert refusal.errors[0]["field"] == "new_due_at"
    doc, _ = act(
        doc,
        SPECIALIST,
        vn(2026, 12, 23, 9),
        action="request_revision",
        items=["x"],
        reason="x",
        new_due_at=vn(2027, 6, 30, 17),
    )
    assert doc["revision_due_at"] == vn(2027, 6, 30, 17)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (vn(2026, 12, 23, 9), 12, vn(2027, 12, 23, 9)),
        (vn(2027, 1, 31, 9), 1, vn(2027, 2, 28, 9)),
        (vn(2027, 1, 31, 9), 13, vn(2028, 2, 29, 9)),  # a leap year
        (vn(2026, 11, 30, 23, 30) - timedelta(hours=7), 2, vn(2027, 1, 30, 16, 30)),
    ],
)
def test_months_are_counted_on_vietnams_calendar(start: datetime, months: int, end: datetime) -> None:
    assert months_after(start, months) == end


def test_only_the_prime_ministers_decision_extends_an_appraisal_and_its_date_is_the_promise() -> None:
    # Law 72/2020 Art. 34(6)(d). Received Thursday 3 December 2026, group II: 30 days end Saturday 2 January 2027.
    doc = in_council()
    due = doc["due_at"]
    assert doc["promised_at"] == due
    later = vn(2027, 1, 29, 17)
    refusal = refused(
        doc, LEADER, vn(2026, 12, 28, 9), action="extend_deadline", reason="Dự án phức tạp", new_due_at=later
    )
    assert refusal.errors == [{"field": "decision_number", "in": "body", "message": "required for this action"}]
    decided = {
        "action": "extend_deadline",
        "reason": "Dự án phức tạp",
        "new_due_at": later,
        "decision_number": "1520/QĐ-TTg",
    }
    assert refused(doc, SPECIALIST, vn(2026, 12, 28, 9), **decided).refusal is Refusal.NOT_PERMITTED
    doc, events = act(doc, LEADER, vn(2026, 12, 28, 9), **decided)
    assert doc["due_at"] == doc["appointment_at"] == doc["promised_at"] == later
    [(kind, data)] = events
    assert kind == "dossier.deadline_extended"
    assert data["granted_by"] == "Thủ tướng Chính phủ"
    assert data["article"] == "Law 72/2020/QH14 Art. 34(6)(d)"
    assert data["decision_number"] == "1520/QĐ-TTg"
    assert data["previous_due_at"] == due.isoformat()
    assert data["promised_at"] == data["new_due_at"] == later.isoformat()
    form = ctx(vn(2026, 12, 28, 9)).definition.action_form(ActionName.EXTEND_DEADLINE)
    assert form["granted_by"]["authority_vi"] == "Thủ tướng Chính phủ"
    assert {f["name"]: f["required"] for f in form["fields"]}["decision_number"] is True  # type: ignore[attr-defined]


def test_an_agency_that_extends_itself_apologises_and_the_promise_stays() -> None:
    # The generic one-stop workflow (Law 55/2014's EIA, version 2015): the leader extends with Form 04.
    definition = definition_for(DEFINITIONS, "MT-DTM-BO", "2015")
    assert definition is not None
    assert definition.action(ActionName.EXTEND_DEADLINE).granted_by is None  # type: ignore[union-attr]
    fields = [f["name"] for f in definition.action_form(ActionName.EXTEND_DEADLINE)["fields"]]  # type: ignore[union-attr]
    assert "decision_number" not in fields
    doc, _ = act(opened(), RECEPTION, vn(2026, 12, 3, 9), action="receive")
    promised = doc["promised_at"]
    generic = Context(definition=definition, calendar=WorkCalendar(), now=vn(2026, 12, 28, 9))
    body = {"action": "extend_deadline", "reason": "Chậm", "new_due_at": vn(2027, 1, 29, 17)}
    with pytest.raises(ActionRefused) as caught:
        decide_action(doc, ActionRequest.model_validate({**body, "decision_number": "9/QĐ"}), LEADER, generic)
    assert caught.value.errors[0]["field"] == "decision_number"
    step = decide_action(doc, ActionRequest.model_validate(body), LEADER, generic).step
    extended = apply(doc, step, vn(2026, 12, 28, 9))
    [(_, data)] = emitted(step)
    assert extended["promised_at"] == promised  # an apology does not make a late dossier on time
    assert data["promised_at"] == promised.isoformat()
    assert "granted_by" not in data or data["granted_by"] is None


def test_a_definition_is_refused_with_each_problem_of_its_new_parts_named() -> None:
    data = yaml.safe_load((DEFINITIONS_DIR / "eia.yaml").read_text(encoding="utf-8"))
    data["actions"]["record_meeting"]["guards"] = ["fee_settled", "moon_is_full"]
    data["events"]["dossier.supplemented"].append({"from": ["awaiting_revision"], "to": "in_appraisal"})
    data["events"]["dossier.fee_paid"]["period"] = "holiday"
    del data["periods"]["revision"]
    data["council"]["at_least"] = {"treasurer": 1}
    data["actions"]["approve"]["granted_by"] = data["actions"]["extend_deadline"]["granted_by"]
    with pytest.raises(DefinitionError) as caught:
        parse_definition(data, source="eia.yaml")
    message = str(caught.value)
    for problem in [
        "action 'record_meeting' names unknown guard 'moon_is_full'",
        "event 'dossier.supplemented' has two transitions from 'awaiting_revision'",
        "event 'dossier.fee_paid' starts unknown period 'holiday'",
        "timer 'revision_expired' needs the period 'revision'",
        "council rules name unknown role 'treasurer'",
        "action 'approve' names who grants it: only 'extend_deadline' may",
    ]:
        assert problem in message, message
