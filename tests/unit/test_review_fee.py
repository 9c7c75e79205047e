"""The appraisal fee of an environmental permit (Law 72/2020 Art. 43, Circular 02/2022/TT-BTC) and of an EIA
appraisal of Law 55/2014 (Circular 56/2018/TT-BTC) is paid while the review goes on and does not stop the clock; no
decision is proposed before it is paid. Dated examples."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import yaml

from hoso.auth import Principal
from hoso.deadlines import VIETNAM, WorkCalendar
from hoso.events import EventType, PublicStatus
from hoso.events.catalog import DeadlineTerms, DossierSubmitted
from hoso.mongo import Document
from review.domain.definition import (
    DEFINITIONS_DIR,
    DefinitionError,
    definition_for,
    parse_definition,
)
from review.domain.engine import (
    ActionRefused,
    ActionRequest,
    Context,
    Refusal,
    decide_action,
    decide_event,
    open_instance,
)
from tests.support import submitted_event
from tests.unit.test_review_engine import DEFINITIONS, LEADER, RECEPTION, SPECIALIST, apply, emitted, intake_event

FEE = 50_000_000  # a group I project's permit (Circular 02/2022/TT-BTC)
# (procedure, version, workflow file): the workflows whose fee runs beside the clock without a council.
WORKFLOWS = [("MT-GPMT-BO", "2025", "permit.yaml"), ("MT-DTM-BO", "2019", "appraisal.yaml")]


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VIETNAM)


@pytest.fixture(params=WORKFLOWS, ids=[w[2] for w in WORKFLOWS])
def procedure(request: pytest.FixtureRequest) -> tuple[str, str]:
    code, version, source = request.param
    definition = definition_for(DEFINITIONS, code, version)
    assert definition is not None
    assert f"{definition.id}.yaml" == source
    return code, version


def ctx(doc: Document, now: datetime) -> Context:
    definition = definition_for(DEFINITIONS, doc["procedure_code"], doc["procedure_version"])
    assert definition is not None
    return Context(definition=definition, calendar=WorkCalendar(), now=now)


def in_review(procedure: tuple[str, str]) -> Document:
    code, version = procedure
    event = submitted_event(
        "d-1", procedure_code=code, procedure_version=version, deadline=DeadlineTerms(amount=45, unit="calendar_days")
    )
    payload = event.payload()
    assert isinstance(payload, DossierSubmitted)
    at = vn(2026, 11, 27, 9)
    definition = definition_for(DEFINITIONS, code, version)
    assert definition is not None
    doc = apply(None, open_instance(event, payload, definition), at)
    doc, _ = act(doc, RECEPTION, vn(2026, 11, 30, 9), action="receive")
    doc, _ = act(doc, LEADER, vn(2026, 11, 30, 10), action="assign", assignee_id="cv-1")
    return doc


def act(doc: Document, who: Principal, at: datetime, **body: Any) -> tuple[Document, list[tuple[str, Any]]]:
    step = decide_action(doc, ActionRequest.model_validate(body), who, ctx(doc, at)).step
    return apply(doc, step, at), emitted(step)


def paid(doc: Document, at: datetime) -> tuple[Document, list[tuple[str, Any]]]:
    event = intake_event(
        doc, EventType.DOSSIER_FEE_PAID, status_code=PublicStatus.PROCESSING, amount=FEE, payment_reference="VNP-7"
    )
    step = decide_event(doc, event, ctx(doc, at))
    assert step is not None
    return apply(doc, step, at), emitted(step)


PROPOSAL = {"action": "propose_decision", "proposal": "approve", "reason": "Đủ điều kiện"}


def test_the_fee_is_paid_while_the_review_goes_on_and_the_clock_does_not_wait(procedure: tuple[str, str]) -> None:
    doc = in_review(procedure)
    due = doc["due_at"]
    assert due == vn(2027, 1, 14, 17)  # 45 calendar days from reception on 2026-11-30
    doc, events = act(doc, SPECIALIST, vn(2026, 12, 1, 9), action="request_fee", amount_vnd=FEE)
    assert (doc["state"], doc["status_code"]) == ("in_appraisal", 4)
    assert doc["paused_at"] is None
    assert doc["due_at"] == due
    assert events[0][0] == "dossier.fee_requested"
    assert events[0][1]["status_code"] == 4

    with pytest.raises(ActionRefused) as caught:
        decide_action(doc, ActionRequest.model_validate(PROPOSAL), SPECIALIST, ctx(doc, vn(2026, 12, 10, 9)))
    assert caught.value.refusal is Refusal.WRONG_STATE
    assert f"{FEE} VND is not paid yet" in caught.value.detail

    doc, events = paid(doc, vn(2026, 12, 11, 14))
    assert (doc["state"], doc["status_code"]) == ("in_appraisal", 4)
    assert doc["fee_paid_at"] == vn(2026, 12, 11, 14)
    assert doc["due_at"] == due  # ten days of waiting for the fee added nothing
    assert (events[0][0], events[0][1]["reason"], events[0][1]["after"]) == (
        "dossier.processing_resumed",
        "Đã nộp phí",
        "fee_paid",
    )  # named "Ghi nhận đã nộp phí" on the timeline: nothing was stopped
    doc, _ = act(doc, SPECIALIST, vn(2026, 12, 14, 9), **PROPOSAL)
    assert doc["state"] == "awaiting_decision"


def test_a_dossier_left_waiting_for_its_fee_in_status_6_goes_on_once_it_is_paid(procedure: tuple[str, str]) -> None:
    # Asked for when waiting for the fee stopped the clock: the retired state keeps its way out.
    doc = {
        **in_review(procedure),
        "state": "awaiting_fee",
        "status_code": 6,
        "paused_at": vn(2026, 12, 1, 9),
        "fee_requested_vnd": FEE,
        "fee_paid_at": None,
    }
    due = doc["due_at"]
    doc, _ = paid(doc, vn(2026, 12, 8, 9))
    assert (doc["state"], doc["status_code"]) == ("in_appraisal", 4)
    assert doc["paused_at"] is None
    assert doc["due_at"] > due  # its pause of a week counts as it did


@pytest.mark.parametrize("source", [w[2] for w in WORKFLOWS])
def test_a_retired_state_is_left_alone_by_the_reachability_check_but_no_action_may_lead_to_it(source: str) -> None:
    data = yaml.safe_load((DEFINITIONS_DIR / source).read_text(encoding="utf-8"))
    assert data["states"]["awaiting_fee"]["retired"] is True
    again = {**data, "actions": {**data["actions"], "request_fee": {**data["actions"]["request_fee"]}}}
    again["actions"]["request_fee"]["to"] = "awaiting_fee"
    with pytest.raises(DefinitionError, match="state 'awaiting_fee' is retired but an action or event still leads"):
        parse_definition(again, source=source)
    unretired = {**data, "states": {**data["states"], "awaiting_fee": {**data["states"]["awaiting_fee"]}}}
    del unretired["states"]["awaiting_fee"]["retired"]
    with pytest.raises(DefinitionError, match="state 'awaiting_fee' is unreachable"):
        parse_definition(unretired, source=source)
