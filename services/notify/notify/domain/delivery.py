"""Deliveries: one per (event, recipient, channel), with the statuses GOV.UK Notify's users know.

created -> sending -> delivered | permanent-failure | temporary-failure | technical-failure. Temporary and technical
failures are tried again with exponential backoff until the attempt limit, then they are final. Every change is a
step of the delivery's versioned document, so its history tells the story and two workers never send one attempt.
These functions are pure: they decide the step; the handlers write it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hoso.documents import Document
from hoso.events import Envelope, EventType, new_event
from hoso.events.catalog import NotificationDelivered, NotificationFailed
from hoso.steps import HISTORY_FIELD, Step
from hoso.topics import NOTIFICATION_EVENTS
from notify.domain.privacy import scrub, scrub_json

SERVICE = "notify"


class Status(StrEnum):
    CREATED = "created"
    SENDING = "sending"
    DELIVERED = "delivered"
    PERMANENT_FAILURE = "permanent-failure"
    TEMPORARY_FAILURE = "temporary-failure"
    TECHNICAL_FAILURE = "technical-failure"


FAILURES = (Status.PERMANENT_FAILURE, Status.TEMPORARY_FAILURE, Status.TECHNICAL_FAILURE)
RETRIED = (Status.TEMPORARY_FAILURE, Status.TECHNICAL_FAILURE)


def delivery_id(event_id: str, recipient_id: str, channel: str) -> str:
    """The unique key of a delivery: the same event, recipient and channel always give the same id."""
    return hashlib.sha256(f"{event_id}|{recipient_id}|{channel}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Outcome:
    """What a channel answered for one attempt. `sending` means accepted, awaiting the provider's receipt."""

    status: Status
    detail: str = ""
    provider_ref: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float
    lease_seconds: float

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.base_seconds * 2 ** max(attempts - 1, 0), self.max_seconds))


def _record(status: Status, now: datetime, detail: str = "") -> Document:
    return {"status": status.value, "at": now, "detail": detail}


def create(fields: Document, now: datetime) -> Step:
    """The first step of a delivery: `created`, due for its first attempt now."""
    return Step(
        fields={
            **fields,
            "status": Status.CREATED.value,
            "attempts": 0,
            "final": False,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        },
        record=_record(Status.CREATED, now),
    )


def claim(doc: Document | None, now: datetime, policy: RetryPolicy) -> Step | None:
    """Take the next attempt when one is due (a `sending` whose lease ran out is due again: its sender died)."""
    if doc is None or doc["final"] or doc.get("next_attempt_at") is None or doc["next_attempt_at"] > now:
        return None
    if doc.get("address_erased"):
        return None  # never attempted to an address that is gone
    attempt = doc["attempts"] + 1
    return Step(
        fields={
            "status": Status.SENDING.value,
            "attempts": attempt,
            "updated_at": now,
            "next_attempt_at": now + timedelta(seconds=policy.lease_seconds),
        },
        record={**_record(Status.SENDING, now), "attempt": attempt},
    )


def _outcome_event(doc: Document, status: Status, now: datetime, detail: str) -> tuple[str, Envelope]:
    common = {
        "delivery_id": doc["_id"],
        "source_event_id": doc["event_id"],
        "dossier_id": doc["dossier_id"],
        "dossier_code": doc["dossier_code"],
        "channel": doc["channel"],
        "recipient_id": doc["recipient_id"],
        "template": doc["template"],
    }
    if status is Status.DELIVERED:
        data: NotificationDelivered | NotificationFailed = NotificationDelivered(**common, delivered_at=now)
        event_type = EventType.NOTIFICATION_DELIVERED
    else:
        data = NotificationFailed(**common, failure=status.value, reason=detail[:500])
        event_type = EventType.NOTIFICATION_FAILED
    return NOTIFICATION_EVENTS, new_event(
        event_type, data, service=SERVICE, correlation_id=doc.get("correlation_id"), time=now
    )


def settle(
    doc: Document | None, attempt: int | None, outcome: Outcome, now: datetime, policy: RetryPolicy
) -> Step | None:
    """The step an attempt's outcome (or a provider's receipt, `attempt=None`) leads to; None when it changes nothing.

    Only the attempt in progress may settle (a late answer to an attempt given up on is ignored), and nothing changes a
    final delivery.
    """
    if doc is None or doc["final"] or doc["status"] != Status.SENDING.value:
        return None
    if attempt is not None and doc["attempts"] != attempt:
        return None
    erased = bool(doc.get("address_erased"))
    # A provider's answer about an address erased meanwhile may quote it: only its outcome is kept.
    detail = RECEIPT_AFTER_ERASURE if erased else outcome.detail[:500]
    fields: Document = {"status": outcome.status.value, "updated_at": now, "last_detail": detail}
    if outcome.provider_ref and not erased:
        fields["provider_ref"] = outcome.provider_ref
    final = outcome.status in (Status.DELIVERED, Status.PERMANENT_FAILURE) or (
        outcome.status in RETRIED and (doc["attempts"] >= policy.max_attempts or erased)
    )
    if outcome.status is Status.SENDING:
        fields["next_attempt_at"] = None  # accepted: the provider's receipt settles it
    elif final:
        fields["next_attempt_at"] = None
    else:
        fields["next_attempt_at"] = now + policy.backoff(doc["attempts"])
    fields["final"] = final
    if outcome.status is Status.DELIVERED:
        fields["delivered_at"] = now
    events = [_outcome_event(doc, outcome.status, now, detail)] if final else []
    record = {**_record(outcome.status, now, detail), "attempt": doc["attempts"], "final": final}
    return Step(fields=fields, events=events, record=record)


# What a delivery copied of its dossier and its recipient, and what the relay answered: where erased data can be.
SCRUBBED = ("address", "recipient_name", "facts", "form_dossier", "last_detail", "provider_ref")
ERASURE_DETAIL = "no further attempt: the address was erased with the dossier's personal data"
RECEIPT_AFTER_ERASURE = "the provider's text is not kept: the address was erased with the dossier's personal data"


def scrubbed_fields(fields: Document, secrets: list[str]) -> Document:
    """Of a delivery's fields (a document or a step's), those that held a secret, with it replaced."""
    changed: Document = {}
    for key in SCRUBBED:
        if key in fields and (value := scrub(fields[key], secrets)) != fields[key]:
            changed[key] = value
    if (
        isinstance(fields.get("envelope"), str)
        and (envelope := scrub_json(fields["envelope"], secrets)) != fields["envelope"]
    ):
        changed["envelope"] = envelope
    return changed


def scrubbed_step(step: Document, secrets: list[str]) -> Document:
    """A stored step of a delivery with the secrets gone from its fields and its record."""
    fields = step.get("fields") or {}
    return {
        **step,
        "fields": {**fields, **scrubbed_fields(fields, secrets)},
        "record": scrub(step.get("record"), secrets),
    }


def erase(doc: Document | None, secrets: list[str], now: datetime) -> Step | None:
    """The step that erases the dossier's personal data (`secrets`, its values) from a delivery, once.

    A delivery to an address that is erased is not attempted again: if it was still to be attempted it ends as a
    permanent failure, told like any other; one the SMS provider accepted keeps waiting for its receipt, and a
    failure it reports then is final."""
    if doc is None or doc.get("personal_data_erased_at") is not None:
        return None
    fields: Document = {**scrubbed_fields(doc, secrets), "personal_data_erased_at": now}
    events = []
    record = _record(Status(doc["status"]), now, "personal data erased")
    if "address" in fields:
        fields["address_erased"] = True
        awaiting_receipt = doc["status"] == Status.SENDING.value and doc.get("next_attempt_at") is None
        if not doc["final"] and not awaiting_receipt:
            fields.update(
                status=Status.PERMANENT_FAILURE.value,
                final=True,
                next_attempt_at=None,
                last_detail=ERASURE_DETAIL,
                updated_at=now,
            )
            events = [_outcome_event(doc, Status.PERMANENT_FAILURE, now, ERASURE_DETAIL)]
            record = {**_record(Status.PERMANENT_FAILURE, now, ERASURE_DETAIL), "final": True}
    history = doc.get(HISTORY_FIELD, [])
    return Step(fields=fields, events=events, record=record, history=scrub(history, secrets))
