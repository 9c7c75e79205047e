"""Delivery statuses as pure decisions: claims, outcomes, retries with backoff, receipts; and the channels' verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
import httpx
import pytest

from hoso.events import EventType
from hoso.versioned import advance
from notify.channels.email import classify
from notify.channels.sms import classify_response
from notify.domain.delivery import Outcome, RetryPolicy, Status, claim, create, delivery_id, settle
from notify.ratelimit import BucketsByKey, TokenBucket

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=3, base_seconds=10, max_seconds=25, lease_seconds=60)
FIELDS = {
    "event_id": "e-1",
    "dossier_id": "d-1",
    "dossier_code": "BNNMT-261127-0001",
    "channel": "email",
    "recipient_id": "citizen-1",
    "template": "dossier.received/applicant/email",
}


def apply(doc: dict[str, Any] | None, step: Any, version: int) -> dict[str, Any]:
    assert step is not None
    stored = {"doc_id": "x", "version": version, "at": NOW, "fields": step.fields, "applies_event": None,
              "events": [{"topic": t, "envelope": e.model_dump_json()} for t, e in step.events]}  # fmt: skip
    return advance(doc, stored)


def created() -> dict[str, Any]:
    return apply(None, create(FIELDS, NOW), 1)


def test_the_delivery_id_is_the_same_for_the_same_event_recipient_and_channel_only() -> None:
    assert delivery_id("e-1", "citizen-1", "email") == delivery_id("e-1", "citizen-1", "email")
    assert len({delivery_id("e-1", "citizen-1", c) for c in ("email", "sms", "in_app")}) == 3
    assert delivery_id("e-1", "citizen-1", "email") != delivery_id("e-2", "citizen-1", "email")


def test_a_claim_takes_a_due_attempt_once_and_a_lapsed_lease_makes_it_due_again() -> None:
    doc = apply(created(), claim(created(), NOW, POLICY), 2)
    assert (doc["status"], doc["attempts"]) == ("sending", 1)
    assert claim(doc, NOW + timedelta(seconds=59), POLICY) is None
    again = claim(doc, NOW + timedelta(seconds=60), POLICY)
    assert again is not None
    assert again.fields["attempts"] == 2


def test_delivered_is_final_and_emits_notification_delivered() -> None:
    doc = apply(created(), claim(created(), NOW, POLICY), 2)
    step = settle(doc, 1, Outcome(Status.DELIVERED, "accepted"), NOW, POLICY)
    assert step is not None
    assert step.fields["final"] is True
    assert [e.type for _, e in step.events] == [EventType.NOTIFICATION_DELIVERED]
    done = apply(doc, step, 3)
    assert claim(done, NOW + timedelta(days=1), POLICY) is None
    assert settle(done, None, Outcome(Status.PERMANENT_FAILURE), NOW, POLICY) is None


def test_failures_are_retried_with_growing_backoff_until_the_limit_then_final_with_notification_failed() -> None:
    doc = created()
    waits = []
    for attempt in (1, 2, 3):
        doc = apply(doc, claim(doc, doc["next_attempt_at"], POLICY), doc["version"] + 1)
        at = doc["next_attempt_at"] - timedelta(seconds=POLICY.lease_seconds)
        step = settle(doc, attempt, Outcome(Status.TECHNICAL_FAILURE, "connection refused"), at, POLICY)
        assert step is not None
        doc = apply(doc, step, doc["version"] + 1)
        if doc["next_attempt_at"] is not None:
            waits.append((doc["next_attempt_at"] - at).total_seconds())
    assert waits == [10, 20]
    assert doc["final"] is True
    assert doc["status"] == "technical-failure"
    event = [e for e in doc["outbox"]][-1]
    assert '"failure":"technical-failure"' in event["envelope"]


def test_a_permanent_failure_is_final_at_once() -> None:
    doc = apply(created(), claim(created(), NOW, POLICY), 2)
    step = settle(doc, 1, Outcome(Status.PERMANENT_FAILURE, "550 no such user"), NOW, POLICY)
    assert step is not None
    assert step.fields["final"] is True
    assert step.fields["next_attempt_at"] is None
    assert [e.type for _, e in step.events] == [EventType.NOTIFICATION_FAILED]


def test_an_accepted_sms_waits_for_its_receipt_and_a_late_answer_to_an_old_attempt_is_ignored() -> None:
    doc = apply(created(), claim(created(), NOW, POLICY), 2)
    accepted = apply(doc, settle(doc, 1, Outcome(Status.SENDING, "ok", provider_ref="sms-1"), NOW, POLICY), 3)
    assert (accepted["status"], accepted["next_attempt_at"], accepted["final"]) == ("sending", None, False)
    assert claim(accepted, NOW + timedelta(days=3), POLICY) is None
    assert settle(accepted, 2, Outcome(Status.DELIVERED), NOW, POLICY) is None
    receipt = settle(accepted, None, Outcome(Status.TEMPORARY_FAILURE, "phone off"), NOW, POLICY)
    assert receipt is not None
    assert receipt.fields["next_attempt_at"] == NOW + timedelta(seconds=10)


def test_token_buckets_allow_the_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate_per_second=0.001, burst=3)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_seconds() > 900
    per_key = BucketsByKey(0.001, 1, max_keys=2)
    assert per_key.bucket("a").try_take()
    assert not per_key.bucket("a").try_take()
    assert per_key.bucket("b").try_take()
    per_key.bucket("c")
    assert per_key.bucket("a").try_take()  # forgotten beyond max_keys: a fresh bucket


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@y")]),
         Status.PERMANENT_FAILURE),
        (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(452, "mailbox full", "x@y")]),
         Status.TEMPORARY_FAILURE),
        (aiosmtplib.SMTPResponseException(421, "try later"), Status.TEMPORARY_FAILURE),
        (aiosmtplib.SMTPConnectError("refused"), Status.TECHNICAL_FAILURE),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), Status.TECHNICAL_FAILURE),
        (ConnectionRefusedError(), Status.TECHNICAL_FAILURE),
    ],
)  # fmt: skip
def test_smtp_errors_are_classified(error: Exception, status: Status) -> None:
    assert classify(error).status is status


@pytest.mark.parametrize(
    ("code", "body", "status"),
    [
        (200, {"id": "m-1"}, Status.SENDING),
        (200, {}, Status.TECHNICAL_FAILURE),
        (400, {"error": "invalid number"}, Status.PERMANENT_FAILURE),
        (401, {}, Status.TECHNICAL_FAILURE),
        (429, {}, Status.TEMPORARY_FAILURE),
        (503, {}, Status.TECHNICAL_FAILURE),
    ],
)
def test_sms_provider_answers_are_classified(code: int, body: dict[str, str], status: Status) -> None:
    outcome = classify_response(httpx.Response(code, json=body))
    assert outcome.status is status
    if status is Status.SENDING:
        assert outcome.provider_ref == "m-1"
