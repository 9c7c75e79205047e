"""Erasing a dossier's personal data from notify's copies (`notify.domain.privacy`, `delivery.erase`; pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hoso.events import EventType, PublicStatus, new_event
from hoso.events.catalog import Applicant, DossierSubmitted
from hoso.events.envelope import Envelope
from hoso.steps import HISTORY_FIELD, Step
from hoso.versioned import advance
from notify.domain.catalog import RecipientRole, load_catalog
from notify.domain.delivery import (
    ERASURE_DETAIL,
    RECEIPT_AFTER_ERASURE,
    Outcome,
    RetryPolicy,
    Status,
    claim,
    create,
    erase,
    scrubbed_step,
    settle,
)
from notify.domain.privacy import ERASED, erased_values, memory_update, scrub, scrub_json
from notify.planning import dossier_fields, plan, recipient_of

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
LATER = AT + timedelta(days=30)
POLICY = RetryPolicy(max_attempts=5, base_seconds=10, max_seconds=60, lease_seconds=60)
CATALOG = load_catalog()
ERASED_PATHS = ["applicant.address", "applicant.email", "applicant.name", "applicant.phone"]
NAME, EMAIL, PHONE, ADDRESS = "Trần Thị Mai", "mai@example.vn", "+84901234567", "12 Hàng Bài, Hoàn Kiếm, Hà Nội"


def apply(doc: dict[str, Any] | None, step: Step | None, version: int) -> dict[str, Any]:
    assert step is not None
    events = [{"topic": t, "envelope": e.model_dump_json()} for t, e in step.events]
    stored = {"doc_id": "x", "version": version, "at": AT, "fields": step.fields, "applies_event": None,
              "record": step.record, "events": events}  # fmt: skip
    return advance(doc, stored if step.history is None else {**stored, "history": step.history})


def submitted() -> tuple[Envelope, DossierSubmitted]:
    data = DossierSubmitted(
        dossier_id="d-1", dossier_code="BNNMT-261201-0001", procedure_code="MT-DTM-BO", agency_code="BNNMT",
        status_code=PublicStatus.NEW, procedure_version="2025-03", submitted_at=AT,
        procedure_name_vi="Thẩm định báo cáo đánh giá tác động môi trường",
        applicant=Applicant(id="citizen-1", name=NAME, email=EMAIL, phone=PHONE, address=ADDRESS),
    )  # fmt: skip
    return new_event(EventType.DOSSIER_SUBMITTED, data, service="intake", time=AT), data


def memory() -> dict[str, Any]:
    return dossier_fields(submitted()[1])


def planned() -> dict[str, dict[str, Any]]:
    """The deliveries of the submission, as created (version 1), by channel."""
    event, data = submitted()
    person = recipient_of(None, RecipientRole.APPLICANT, id="citizen-1", name=NAME, email=EMAIL, phone=PHONE)
    assert person is not None
    found = plan(CATALOG, event, data, memory(), {RecipientRole.APPLICANT: [person]}, sms=True)
    return {f["channel"]: apply(None, create(f, AT), 1) for _, f in found}


def holds(value: Any, *secrets: str) -> bool:
    return any(secret in str(value) for secret in secrets)


def test_the_values_erased_are_the_applicants_as_notify_remembers_them_longest_first() -> None:
    assert erased_values(memory(), ERASED_PATHS) == [ADDRESS, EMAIL, PHONE, NAME]
    # An organisation's name is not erased (records does not list it), nor anything notify does not keep.
    assert erased_values(memory(), ["applicant.email", "applicant_identifiers.personal_id"]) == [EMAIL]
    assert erased_values({"applicant": {"email": None, "name": ""}}, ERASED_PATHS) == []


def test_scrubbing_replaces_each_value_wherever_it_occurs_and_keeps_an_event_readable() -> None:
    secrets = erased_values(memory(), ERASED_PATHS)
    nested = {"to": EMAIL, "lines": [f"Kính gửi {NAME}", {"at": AT}], "n": 3}
    assert scrub(nested, secrets) == {"to": ERASED, "lines": [f"Kính gửi {ERASED}", {"at": AT}], "n": 3}
    event, _ = submitted()
    text = scrub_json(event.model_dump_json(), secrets)
    assert not holds(text, *secrets)
    again = Envelope.model_validate_json(text).payload()
    assert isinstance(again, DossierSubmitted)
    assert (again.applicant.email, again.applicant.name, again.applicant.id) == (ERASED, ERASED, "citizen-1")
    assert scrub_json(text, secrets) == text  # nothing left to change


def test_a_delivery_still_to_be_sent_to_an_erased_address_ends_and_is_never_attempted_again() -> None:
    secrets = erased_values(memory(), ERASED_PATHS)
    email = planned()["email"]
    step = erase(email, secrets, LATER)
    assert step is not None
    doc = apply(email, step, 2)
    assert (doc["status"], doc["final"], doc["next_attempt_at"]) == ("permanent-failure", True, None)
    assert doc["last_detail"] == ERASURE_DETAIL
    assert doc["address"] == ERASED
    assert not holds({k: v for k, v in doc.items() if k != "outbox"}, *secrets)
    [(_, told)] = step.events
    assert told.type is EventType.NOTIFICATION_FAILED
    assert not holds(told.model_dump_json(), *secrets)
    assert doc[HISTORY_FIELD][-1]["record"]["status"] == "permanent-failure"
    assert erase(doc, secrets, LATER) is None  # once
    assert claim(doc, LATER, POLICY) is None


def test_a_delivered_message_keeps_its_story_without_the_values_and_its_stored_steps_lose_them_too() -> None:
    secrets = erased_values(memory(), ERASED_PATHS)
    email = planned()["email"]
    sent = apply(email, claim(email, AT, POLICY), 2)
    step = settle(sent, 1, Outcome(Status.DELIVERED, f"250 OK <{EMAIL}>"), AT, POLICY)
    delivered = apply(sent, step, 3)
    erasure = erase(delivered, secrets, LATER)
    assert erasure is not None
    assert erasure.events == []  # nothing to tell: it was delivered
    doc = apply(delivered, erasure, 4)
    assert (doc["status"], doc["final"]) == ("delivered", True)
    assert [h["record"]["status"] for h in doc[HISTORY_FIELD]] == ["created", "sending", "delivered", "delivered"]
    assert doc[HISTORY_FIELD][2]["record"]["detail"] == f"250 OK <{ERASED}>"
    assert not holds({k: v for k, v in doc.items() if k != "outbox"}, *secrets)
    stored = {"_id": "x#000001", "fields": email, "record": {"status": "created", "detail": EMAIL}}
    assert not holds(scrubbed_step(stored, secrets), *secrets)


def accepted_sms() -> tuple[dict[str, Any], dict[str, Any]]:
    """An SMS the provider accepted (awaiting its receipt), before and after the dossier's erasure."""
    secrets = erased_values(memory(), ERASED_PATHS)
    email = planned()["email"]
    sms = {**email, "channel": "sms", "address": PHONE, "template": "dossier.submitted/applicant/sms", "form": None}
    sending = apply(sms, claim(sms, AT, POLICY), 2)
    accepted = apply(sending, settle(sending, 1, Outcome(Status.SENDING, "queued", "p-1"), AT, POLICY), 3)
    return accepted, apply(accepted, erase(accepted, secrets, LATER), 4)


def test_an_sms_the_provider_accepted_waits_for_its_receipt_and_a_failure_it_reports_then_is_final() -> None:
    _, doc = accepted_sms()
    assert (doc["status"], doc["final"], doc["address"]) == ("sending", False, ERASED)
    failed = settle(doc, None, Outcome(Status.TEMPORARY_FAILURE, "handset off"), LATER, POLICY)
    assert failed is not None
    assert failed.fields["final"] is True  # not tried again: there is no number to try


def test_a_receipt_that_comes_after_the_erasure_is_kept_without_the_providers_text_which_may_quote_the_number() -> None:
    accepted, doc = accepted_sms()
    for status in (Status.DELIVERED, Status.PERMANENT_FAILURE):
        receipt = Outcome(status, f"DLR to 0901234567 ({PHONE}): {status.value}", f"ref-{PHONE}")
        step = settle(doc, None, receipt, LATER, POLICY)
        assert step is not None
        assert step.fields["status"] == status.value
        assert step.fields["final"] is True
        assert step.fields["last_detail"] == RECEIPT_AFTER_ERASURE
        assert "provider_ref" not in step.fields
        assert not holds(step.record, PHONE, "0901234567"), status
        assert not holds([e.model_dump_json() for _, e in step.events], PHONE, "0901234567"), status
    # Before the erasure the provider's words are kept as they came.
    before = settle(accepted, None, Outcome(Status.DELIVERED, "DLR: delivered", "p-1"), AT, POLICY)
    assert before is not None
    assert before.fields["last_detail"] == "DLR: delivered"


def test_the_memory_forgets_the_values_and_remembers_what_was_erased() -> None:
    update = memory_update(memory()["applicant"], ERASED_PATHS, LATER)["$set"]
    assert update["applicant"] == {
        "id": "citizen-1", "kind": "citizen", "name": "", "email": None, "phone": None, "address": None,
    }  # fmt: skip
    assert update["personal_data_erased"] == ["address", "email", "name", "phone"]
    assert update["personal_data_erased_at"] == LATER
