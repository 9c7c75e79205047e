"""Intake's command and event handlers: plain functions over the repository."""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from hoso.auth import Principal
from hoso.events import Envelope, EventType, PublicStatus, canonical_json, new_event
from hoso.events.catalog import Applicant, ComponentFiles, DossierEventData, DossierSubmitted
from hoso.mongo import Document, bson_now
from hoso.outbox import OutboxRelay, initial_outbox
from hoso.problems import Problem
from hoso.topics import DOSSIER_EVENTS
from intake.domain.codes import format_dossier_code, service_day
from intake.repository import CodeTaken, DossierRepository
from intake.schemas import SubmitDossier

SERVICE = "intake"
PROCEDURE_VERSION_UNVERSIONED = "1"
_MAX_CODE_ATTEMPTS = 400


class IdempotencyConflict(Problem):
    def __init__(self) -> None:
        super().__init__(409, "Idempotency key reused", "this Idempotency-Key was used for a different request body")


@dataclass(frozen=True)
class Submission:
    dossier: Document
    created: bool


def request_fingerprint(command: SubmitDossier) -> str:
    return hashlib.sha256(canonical_json(command.model_dump(mode="json"))).hexdigest()


async def submit_dossier(
    repo: DossierRepository,
    relay: OutboxRelay,
    *,
    applicant: Principal,
    command: SubmitDossier,
    idempotency_key: str,
    correlation_id: str | None,
    timezone: str,
) -> Submission:
    """Create the dossier and its `dossier.submitted` event in one insert; a retried request returns it."""
    fingerprint = request_fingerprint(command)
    existing = await _replay(repo, applicant.subject, idempotency_key, fingerprint)
    if existing is not None:
        return Submission(existing, created=False)
    now = bson_now()
    day = service_day(now, timezone)
    dossier_id = str(uuid.uuid4())
    for _ in range(_MAX_CODE_ATTEMPTS):
        sequence = await repo.last_sequence(command.agency_code, day) + 1
        code = format_dossier_code(command.agency_code, day, sequence)
        event = _submitted_event(dossier_id, code, applicant, command, now, correlation_id)
        document = _dossier_document(dossier_id, code, sequence, day.isoformat(), applicant, command, now)
        document.update(
            idempotency_key=idempotency_key, fingerprint=fingerprint, **initial_outbox([(DOSSIER_EVENTS, event)])
        )
        try:
            await repo.insert(document)
        except CodeTaken:
            await asyncio.sleep(random.uniform(0, 0.005))
            continue
        except DuplicateKeyError:
            # The same request raced itself; the first one won.
            existing = await _replay(repo, applicant.subject, idempotency_key, fingerprint)
            if existing is None:
                raise
            return Submission(existing, created=False)
        relay.wake()
        return Submission(document, created=True)
    raise Problem(503, "Busy", "could not allocate a dossier code; retry with the same Idempotency-Key")


async def _replay(repo: DossierRepository, applicant_id: str, key: str, fingerprint: str) -> Document | None:
    existing = await repo.by_idempotency_key(applicant_id, key)
    if existing is not None and existing["fingerprint"] != fingerprint:
        raise IdempotencyConflict()
    return existing


def _submitted_event(
    dossier_id: str,
    code: str,
    applicant: Principal,
    command: SubmitDossier,
    now: datetime,
    correlation_id: str | None,
) -> Envelope:
    data = DossierSubmitted(
        dossier_id=dossier_id,
        dossier_code=code,
        procedure_code=command.procedure_code,
        agency_code=command.agency_code,
        status_code=PublicStatus.NEW,
        procedure_version=PROCEDURE_VERSION_UNVERSIONED,
        applicant=Applicant(
            id=applicant.subject,
            kind=command.applicant_kind,
            name=applicant.name,
            email=applicant.email,
            phone=applicant.phone,
        ),
        submitted_at=now,
        components=[ComponentFiles(code=c.code, file_ids=c.file_ids) for c in command.components],
        fields=command.fields,
    )
    return new_event(EventType.DOSSIER_SUBMITTED, data, service=SERVICE, correlation_id=correlation_id, time=now)


def _dossier_document(
    dossier_id: str,
    code: str,
    sequence: int,
    day: str,
    applicant: Principal,
    command: SubmitDossier,
    now: datetime,
) -> Document:
    return {
        "_id": dossier_id,
        "code": code,
        "agency_code": command.agency_code,
        "day": day,
        "sequence": sequence,
        "procedure_code": command.procedure_code,
        "procedure_version": PROCEDURE_VERSION_UNVERSIONED,
        "applicant_id": applicant.subject,
        "applicant_kind": command.applicant_kind,
        "submitted_at": now,
        "status_code": int(PublicStatus.NEW),
        "status_updated_at": now,
        # Field names come from users: stored as name/value objects so no key holds a dot or a dollar.
        "fields": [{"name": name, "value": value} for name, value in command.fields.items()],
        "components": [c.model_dump() for c in command.components],
    }


async def record_status_change(repo: DossierRepository, event: Envelope) -> None:
    """Keep intake's view of the public status from review's events."""
    payload = event.payload()
    assert isinstance(payload, DossierEventData)
    await repo.record_status(payload.dossier_id, event.id, int(payload.status_code), event.time)
