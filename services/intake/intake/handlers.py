"""Intake's command and event handlers: plain functions over the catalog, the file store and the dossiers."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from hoso.auth import OFFICER_ROLES, Principal, Role
from hoso.errors import TransientError
from hoso.events import Envelope, EventType, PublicStatus, canonical_json, new_event
from hoso.events.catalog import (
    Applicant,
    Channel,
    ComponentFiles,
    DeadlineTerms,
    DossierAppraisalRecorded,
    DossierApproved,
    DossierDeadlineExtended,
    DossierEventData,
    DossierFeeRequested,
    DossierPersonalDataErased,
    DossierProcessingResumed,
    DossierReceived,
    DossierRefused,
    DossierRejected,
    DossierResultReturned,
    DossierStopped,
    DossierSubmitted,
    DossierSupplemented,
    DossierSupplementRequested,
    DossierWithdrawalAccepted,
    DossierWithdrawalRequested,
    FileRef,
)
from hoso.idempotency import APPLIED_FIELD, dotted
from hoso.mongo import Document, bson_now
from hoso.outbox import OutboxRelay, initial_outbox
from hoso.problems import Problem
from hoso.retry import retry_transient
from hoso.topics import DOSSIER_EVENTS
from intake.catalog_store import CatalogStore
from intake.domain.catalog import (
    Deadline,
    FeeUndetermined,
    NoVersionInForce,
    ProcedureVersion,
    UnknownProcedure,
    version_in_force,
)
from intake.domain.codes import MAX_SEQUENCE, SequenceExhausted, service_day
from intake.domain.lifecycle import ApplicantAction, allowed_actions, may
from intake.domain.submission import FileFacts, Finding, check_components, check_fields
from intake.files import FileStore, StoredFile
from intake.repository import CodeTaken, DossierRepository, SubmittedBefore
from intake.schemas import ComponentIn, SubmitDossier, SupplementIn, WithdrawalIn

SERVICE = "intake"
# A code is refused only when a released number was handed out twice or a number is in use by an older dossier.
_MAX_CODE_ATTEMPTS = 1000
# Dossier ids of submissions: uuid5 of "<applicant>|<Idempotency-Key>" in this namespace.
_SUBMISSIONS = uuid.UUID("0b7c6f0e-8d51-5a43-9a2e-4f1c3d2b6a10")


class IdempotencyConflict(Problem):
    def __init__(self) -> None:
        super().__init__(409, "Idempotency key reused", "this Idempotency-Key was used for a different request body")


class InvalidDossier(Problem):
    def __init__(self, findings: list[Finding]) -> None:
        fields = ", ".join(f.field for f in findings)
        super().__init__(
            422,
            "Invalid dossier",
            f"the dossier cannot be accepted: {fields}",
            errors=[{"field": f.field, "in": "body", "message": f.message} for f in findings],
        )


class WrongState(Problem):
    def __init__(self, action: ApplicantAction, status: PublicStatus) -> None:
        possible = [a.value for a in allowed_actions(status)]
        super().__init__(
            409,
            "Not possible in this status",
            f"{action.value} is not possible while the dossier is in status {int(status)}; possible now: "
            f"{', '.join(possible) or 'none'}",
            status_code=int(status),
            allowed_actions=possible,
        )


class DossierNotFound(Problem):
    def __init__(self, code: str) -> None:
        super().__init__(404, "Not found", f"no dossier {code} of yours")


@dataclass(frozen=True)
class Submission:
    dossier: Document
    created: bool


def request_fingerprint(command: SubmitDossier) -> str:
    return hashlib.sha256(canonical_json(command.model_dump(mode="json"))).hexdigest()


def facts_of(files: dict[str, StoredFile]) -> dict[str, FileFacts]:
    return {i: FileFacts(f.id, f.owner, f.content_type, f.size, f.dossier_id) for i, f in files.items()}


async def procedure_in_force(catalog: CatalogStore, code: str, day: date) -> ProcedureVersion:
    try:
        return version_in_force(await catalog.versions_of(code), code, day)
    except (UnknownProcedure, NoVersionInForce) as exc:
        raise InvalidDossier([Finding("procedure_code", str(exc))]) from exc


async def submit_dossier(
    repo: DossierRepository,
    catalog: CatalogStore,
    files: FileStore,
    relay: OutboxRelay,
    *,
    applicant: Principal,
    command: SubmitDossier,
    idempotency_key: str,
    correlation_id: str | None,
    timezone: str,
    channel: Channel = "online",
    registered_by: Principal | None = None,
) -> Submission:
    """Create the dossier and its `dossier.submitted` event in one insert; a retried request returns it.

    `registered_by`: the reception officer registering a paper dossier for `applicant` (who then has no account of
    the platform behind them): the files are the officer's uploads, and the dossier must be their agency's."""
    fingerprint = request_fingerprint(command)
    # The id derives from who sent it and the key, so a retried request finds its dossier by `_id`.
    sender = registered_by or applicant
    dossier_id = str(uuid.uuid5(_SUBMISSIONS, f"{sender.subject}|{idempotency_key}"))
    existing = await repo.by_id(dossier_id)
    if existing is not None:
        return await _submitted_before(files, existing, fingerprint)
    now = bson_now()
    day = service_day(now, timezone)
    version = await procedure_in_force(catalog, command.procedure_code, day)
    components = {c.code: c.file_ids for c in command.components}
    stored = await files.get_many([f for ids in components.values() for f in ids])
    findings = check_components(version, components, facts_of(stored), applicant_id=sender.subject)
    findings += check_fields(version, command.fields)
    if len(components) != len(command.components):
        findings.append(Finding("components", "a component code is given twice"))
    if findings:
        raise InvalidDossier(findings)
    agency = version.competent_agency(command.fields)
    assert agency is not None
    if registered_by is not None and agency != registered_by.agency:
        where = f"fields.{version.competence.rules[0].field}" if version.competence.rules else "procedure_code"
        raise InvalidDossier([Finding(where, f"the competent agency for this dossier is {agency}, not yours")])
    for _ in range(_MAX_CODE_ATTEMPTS):
        try:
            sequence = await repo.reserve_sequence(agency, day, dossier_id)
        except SequenceExhausted as exc:
            raise NumbersUsedUp(agency, day, timezone) from exc
        code = repo.codes.format(agency, day, sequence)
        event = _submitted_event(
            dossier_id, code, agency, version, applicant, command, stored, now, correlation_id, channel, registered_by
        )
        document = _dossier_document(dossier_id, code, agency, sequence, day, version, applicant, command, now)
        document.update(
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            channel=channel,
            registered_by=registered_by.subject if registered_by else None,
            **initial_outbox([(DOSSIER_EVENTS, event)]),
        )
        try:
            await repo.insert(document)
        except CodeTaken:
            # The number is in use (a collision, or a counter behind its dossiers): take the next one.
            await asyncio.sleep(random.uniform(0, 0.005))
            continue
        except SubmittedBefore:
            await repo.release_sequence(agency, day, sequence)
            existing = await repo.by_id(dossier_id) or await repo.by_idempotency_key(sender.subject, idempotency_key)
            if existing is None:
                raise
            return await _submitted_before(files, existing, fingerprint)
        except BaseException:
            # Not created (the database failed, the request was cancelled): give the number back if we can.
            with contextlib.suppress(Exception):
                await asyncio.shield(repo.release_sequence(agency, day, sequence))
            raise
        relay.wake(dossier_id)
        await _attach_files(files, document)
        return Submission(document, created=True)
    raise Problem(503, "Busy", "could not allocate a dossier code; retry with the same Idempotency-Key")


async def _attach_files(files: FileStore, dossier: Document) -> None:
    """Link the dossier's files to it, which lets its agency's officers read them; linking twice changes nothing."""
    file_ids = [f for c in dossier["components"] for f in c["file_ids"]]
    # The dossier exists from here on: a busy database must not turn this request into a failure.
    await retry_transient(
        lambda: files.attach(file_ids, dossier_id=dossier["_id"], agency_code=dossier["agency_code"]), attempts=10
    )


async def _submitted_before(files: FileStore, existing: Document, fingerprint: str) -> Submission:
    """The answer to a retried submission: its dossier, with its files linked (the request that created it may
    have ended between the insert and the linking)."""
    dossier = _same_request(existing, fingerprint)
    await _attach_files(files, dossier)
    return Submission(dossier, created=False)


class NumbersUsedUp(Problem):
    """The agency has given all 9999 dossier numbers of the day (a code has four digits): nothing was created."""

    def __init__(self, agency: str, day: date, timezone: str) -> None:
        midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(timezone))
        wait = max(1, int((midnight - bson_now()).total_seconds()))
        super().__init__(
            503,
            "Dossier numbers used up",
            f"{agency} has given all {MAX_SEQUENCE} dossier numbers of {day.isoformat()}; submit again from "
            f"{midnight.isoformat()} with the same Idempotency-Key",
            headers={"Retry-After": str(wait)},
        )


def _same_request(existing: Document, fingerprint: str) -> Document:
    if existing["fingerprint"] != fingerprint:
        raise IdempotencyConflict()
    return existing


def _terms(deadline: Deadline) -> DeadlineTerms:
    return DeadlineTerms(amount=deadline.amount, unit=deadline.unit.value)


def _file_refs(ids: list[str], stored: dict[str, StoredFile]) -> list[FileRef]:
    return [
        FileRef(
            id=i, name=stored[i].name, content_type=stored[i].content_type, size=stored[i].size, sha256=stored[i].sha256
        )
        for i in ids
    ]


def _component_files(
    version: ProcedureVersion, components: list[ComponentIn], stored: dict[str, StoredFile]
) -> list[ComponentFiles]:
    """The files of each component, named as the procedure version names it (the forms list them so)."""
    specs = {c.code: c for c in version.components}
    return [
        ComponentFiles(
            code=c.code,
            name=specs[c.code].name_vi if c.code in specs else "",
            paper_copies=specs[c.code].paper_copies if c.code in specs else None,
            file_ids=c.file_ids,
            files=_file_refs(c.file_ids, stored),
        )
        for c in components
    ]


def _fee(version: ProcedureVersion, fields: dict[str, Any]) -> int | None:
    try:
        return version.fee.amount_for(fields)
    except FeeUndetermined:
        return None


def _submitted_event(
    dossier_id: str,
    code: str,
    agency: str,
    version: ProcedureVersion,
    applicant: Principal,
    command: SubmitDossier,
    stored: dict[str, StoredFile],
    now: datetime,
    correlation_id: str | None,
    channel: Channel = "online",
    registered_by: Principal | None = None,
) -> Envelope:
    data = DossierSubmitted(
        channel=channel,
        registered_by=registered_by.subject if registered_by else None,
        dossier_id=dossier_id,
        dossier_code=code,
        procedure_code=version.procedure_code,
        agency_code=agency,
        status_code=PublicStatus.NEW,
        procedure_version=version.version,
        procedure_name_vi=version.name_vi,
        procedure_name_en=version.name_en,
        applicant=Applicant(
            id=applicant.subject,
            kind=command.applicant_kind,
            name=applicant.name,
            email=applicant.email,
            phone=applicant.phone,
            address=applicant.address,
        ),
        submitted_at=now,
        components=_component_files(version, command.components, stored),
        fields=command.fields,
        deadline=_terms(version.deadline.for_fields(command.fields)),
        supplement_policy=version.supplement_policy.value,
        supplement_deadline=_terms(version.supplement_deadline),
        fee_vnd=_fee(version, command.fields),
    )
    return new_event(EventType.DOSSIER_SUBMITTED, data, service=SERVICE, correlation_id=correlation_id, time=now)


def _dossier_document(
    dossier_id: str,
    code: str,
    agency: str,
    sequence: int,
    day: date,
    version: ProcedureVersion,
    applicant: Principal,
    command: SubmitDossier,
    now: datetime,
) -> Document:
    return {
        "_id": dossier_id,
        "code": code,
        "agency_code": agency,
        "day": day.isoformat(),
        "sequence": sequence,
        "procedure_code": version.procedure_code,
        "procedure_version": version.version,
        "applicant_id": applicant.subject,
        "applicant_kind": command.applicant_kind,
        # How to reach them, for the agency's officers (personal data: kept here, where it can be erased).
        "applicant": {
            k: v
            for k, v in {
                "name": applicant.name,
                "email": applicant.email,
                "phone": applicant.phone,
                "address": applicant.address,
            }.items()
            if v
        },
        # The identifiers the identity provider vouched for (VNeID): a citizen's number or an enterprise's tax code.
        "applicant_identifiers": {
            k: v for k, v in {"personal_id": applicant.personal_id, "tax_code": applicant.tax_code}.items() if v
        },
        "submitted_at": now,
        "status_code": int(PublicStatus.NEW),
        "status_updated_at": now,
        # Field names come from users: stored as name/value objects so no key holds a dot or a dollar.
        "fields": [{"name": name, "value": value} for name, value in command.fields.items()],
        "components": [c.model_dump() for c in command.components],
        "supplements": [],
    }


class Readership(StrEnum):
    """Who reads a dossier: its owner, an officer of its agency, or a member of its appraisal council."""

    OWNER = "owner"
    OFFICER = "officer"
    COUNCIL = "council"


async def dossier_read_by(
    repo: DossierRepository, code: str, principal: Principal, *, council: bool = False
) -> tuple[Document, Readership]:
    """A dossier its owner, or an officer of its agency, may read (with `council`, also a member of its appraisal
    council through their own account), and as whom; 404 for anyone else."""
    doc = await repo.by_code(code)
    if doc is None:
        raise DossierNotFound(code)
    if doc["applicant_id"] == principal.subject and principal.has_any(Role.APPLICANT):
        return doc, Readership.OWNER
    if principal.has_any(*OFFICER_ROLES) and principal.agency == doc["agency_code"]:
        return doc, Readership.OFFICER
    if council and seated_on_council(doc, principal):
        return doc, Readership.COUNCIL
    raise DossierNotFound(code)


async def readable_dossier(repo: DossierRepository, code: str, principal: Principal) -> Document:
    """A dossier its owner, or an officer of its agency, may read; 404 for anyone else."""
    doc, _ = await dossier_read_by(repo, code, principal)
    return doc


def seated_on_council(doc: Document, principal: Principal) -> bool:
    """Whether `principal` is a member of the dossier's appraisal council taking part through their account: they read
    the dossier and its files (not the applicant's contact, not the messages)."""
    return (
        principal.has_any(Role.COUNCIL_MEMBER)
        and principal.agency == doc["agency_code"]
        and principal.subject in (doc.get("council_accounts") or ())
    )


async def own_dossier(repo: DossierRepository, code: str, applicant: Principal) -> Document:
    doc = await repo.by_code(code)
    if doc is None or doc["applicant_id"] != applicant.subject:
        raise DossierNotFound(code)
    return doc


def _base(doc: Document, status: PublicStatus) -> dict[str, Any]:
    return {
        "dossier_id": doc["_id"],
        "dossier_code": doc["code"],
        "procedure_code": doc["procedure_code"],
        "agency_code": doc["agency_code"],
        "status_code": status,
    }


async def supplement_dossier(
    repo: DossierRepository,
    catalog: CatalogStore,
    files: FileStore,
    relay: OutboxRelay,
    *,
    applicant: Principal,
    code: str,
    command: SupplementIn,
    correlation_id: str | None,
) -> Document:
    """Add the requested documents while the dossier waits for them (status 5); emits `dossier.supplemented`."""
    doc = await own_dossier(repo, code, applicant)
    status = PublicStatus(doc["status_code"])
    if not may(ApplicantAction.SUPPLEMENT, status):
        raise WrongState(ApplicantAction.SUPPLEMENT, status)
    version = await catalog.get(doc["procedure_code"], doc["procedure_version"])
    assert version is not None, "a dossier's procedure version is never removed"
    components = {c.code: c.file_ids for c in command.components}
    stored = await files.get_many([f for ids in components.values() for f in ids])
    findings = check_components(
        version, components, facts_of(stored), applicant_id=applicant.subject, dossier_id=doc["_id"], complete=False
    )
    if findings:
        raise InvalidDossier(findings)
    now = bson_now()
    supplement_id = str(uuid.uuid4())
    purpose = (doc.get("supplement_request") or {}).get("purpose", "supplement")
    data = DossierSupplemented(
        **_base(doc, PublicStatus.PROCESSING),
        supplement_id=supplement_id,
        components=_component_files(version, command.components, stored),
        note=command.note,
        purpose=purpose,
    )
    event = new_event(EventType.DOSSIER_SUPPLEMENTED, data, service=SERVICE, correlation_id=correlation_id, time=now)
    record = {
        "id": supplement_id,
        "at": now,
        "note": command.note,
        "components": [c.model_dump() for c in command.components],
        "purpose": purpose,
    }
    update = {
        "$set": {
            "status_code": int(PublicStatus.PROCESSING),
            "status_updated_at": now,
            "clock_paused": False,
            "supplement_request": None,
            "pending_request": pending_request(ApplicantAction.SUPPLEMENT, event),
        },
        "$push": {"supplements": record},
    }
    # The files are linked to the dossier first: a request that ends after recording the supplement (a crash, the
    # database gone) leaves no file its officers cannot read, and a retry may send the same files again.
    await retry_transient(
        lambda: files.attach(list(stored), dossier_id=doc["_id"], agency_code=doc["agency_code"]), attempts=10
    )
    if not await repo.act(
        doc["_id"],
        allowed_statuses=[int(PublicStatus.SUPPLEMENT_REQUESTED)],
        update=update,
        events=[(DOSSIER_EVENTS, event)],
    ):
        fresh = await own_dossier(repo, code, applicant)  # the status changed meanwhile: say what it is now
        raise WrongState(ApplicantAction.SUPPLEMENT, PublicStatus(fresh["status_code"]))
    relay.wake(doc["_id"])
    return await own_dossier(repo, code, applicant)


def pending_request(action: ApplicantAction, event: Envelope) -> Document:
    """The applicant's request on its way to review: the status intake set for it stands until review takes it."""
    return {"action": action.value, "event_id": event.id, "at": event.time}


async def withdraw_dossier(
    repo: DossierRepository,
    relay: OutboxRelay,
    *,
    applicant: Principal,
    code: str,
    command: WithdrawalIn,
    correlation_id: str | None,
) -> Document:
    """Ask to withdraw before a decision; emits `dossier.withdrawal_requested` (status 7)."""
    doc = await own_dossier(repo, code, applicant)
    status = PublicStatus(doc["status_code"])
    if not may(ApplicantAction.WITHDRAW, status):
        raise WrongState(ApplicantAction.WITHDRAW, status)
    now = bson_now()
    data = DossierWithdrawalRequested(**_base(doc, PublicStatus.WITHDRAWAL_REQUESTED), reason=command.reason)
    event = new_event(
        EventType.DOSSIER_WITHDRAWAL_REQUESTED, data, service=SERVICE, correlation_id=correlation_id, time=now
    )
    update = {
        "$set": {
            "status_code": int(PublicStatus.WITHDRAWAL_REQUESTED),
            "status_updated_at": now,
            "withdrawal": {"reason": command.reason, "at": now},
            "pending_request": pending_request(ApplicantAction.WITHDRAW, event),
        }
    }
    allowed = [int(s) for s in PublicStatus if may(ApplicantAction.WITHDRAW, s)]
    if not await repo.act(doc["_id"], allowed_statuses=allowed, update=update, events=[(DOSSIER_EVENTS, event)]):
        fresh = await own_dossier(repo, code, applicant)
        raise WrongState(ApplicantAction.WITHDRAW, PublicStatus(fresh["status_code"]))
    relay.wake(doc["_id"])
    return await own_dossier(repo, code, applicant)


# The fields of intake's dossier that decide how one of review's events changes it, and how often to decide again.
VIEW_FACTS = ("status_code", "workflow_version", "pending_request.event_id")
VIEW_ATTEMPTS = 10


def view_update(event: Envelope, current: Document | None) -> Document | None:
    """How one of review's events changes intake's view of the dossier `current`; None: it changes nothing.

    Review is the one authority for the workflow's public status, and each of its events carries the version of the
    step that made it: a step older than the one shown changes nothing. The statuses intake sets itself when the
    applicant acts (4 after a supplement or a payment, 7 after a withdrawal request) stand until review's step that
    took the request (`answers_event`: `dossier.processing_resumed`, `dossier.withdrawal_accepted`), so a step review
    made before it read the request cannot take the dossier back to a status the applicant could act on again. A
    step from whose state the request can no longer be taken (a refusal, a decision) is shown as it is.
    """
    payload = event.payload()
    assert isinstance(payload, DossierEventData)
    version = payload.workflow_version
    shown = (current or {}).get("workflow_version")
    if version is not None and shown is not None and version <= shown:
        return None
    status = PublicStatus(payload.status_code)
    fields: Document = {} if version is None else {"workflow_version": version}
    pending = (current or {}).get("pending_request")
    if pending is not None and payload.answers_event == pending["event_id"]:
        fields["pending_request"] = None
        if isinstance(payload, DossierWithdrawalAccepted):
            fields["withdrawal.accepted_at"] = event.time
    elif pending is not None and current is not None and may(ApplicantAction(pending["action"]), status):
        # Review has not taken the applicant's request yet, and will from this step's state: what it led to stands.
        status = PublicStatus(current["status_code"])
    elif payload.clock_paused is not None:
        fields["clock_paused"] = payload.clock_paused
    if current is None or status != current.get("status_code"):
        fields.update(status_code=int(status), status_updated_at=event.time)
    if isinstance(payload, DossierReceived):
        fields.update(
            due_at=payload.due_at,
            appointment_at=payload.appointment_at,
            receipt_number=payload.receipt_number,
            received_at=payload.received_at,
            # Sealed as it came (HOSO_PIN_SEAL_KEY): shown to the applicant alone, as on their receipt.
            tracking_pin_sealed=payload.tracking_pin_sealed,
        )
    elif isinstance(payload, DossierSupplementRequested):
        fields["supplement_request"] = {
            "items": payload.items,
            "due_at": payload.supplement_due_at,
            "reason": payload.reason,
            "requested_at": event.time,
            "purpose": payload.purpose,
        }
    elif isinstance(payload, DossierFeeRequested):
        fields["fee"] = {
            "amount_vnd": int(payload.amount),
            "requested_at": event.time,
            "paid_at": None,
            # The payment reference names this fee request: a new request gets a new reference.
            "reference": f"{payload.dossier_code}-{event.id[:8]}",
        }
    elif isinstance(payload, DossierProcessingResumed) and payload.due_at is not None:
        fields["due_at"] = payload.due_at
    elif isinstance(payload, DossierDeadlineExtended):
        fields["due_at"] = payload.new_due_at
        fields["extension"] = {
            "reason": payload.reason,
            "new_due_at": payload.new_due_at,
            "at": event.time,
            "granted_by": payload.granted_by,
            "decision_number": payload.decision_number,
        }
    elif isinstance(payload, DossierApproved):
        fields["decision"] = {"outcome": "approved", "decision_number": payload.decision_number, "at": event.time}
    elif isinstance(payload, DossierRejected | DossierRefused | DossierStopped):
        outcome = {DossierRejected: "rejected", DossierRefused: "refused", DossierStopped: "stopped"}[type(payload)]
        fields["decision"] = {"outcome": outcome, "reason": payload.reason, "at": event.time}
    elif isinstance(payload, DossierResultReturned):
        fields["result_returned_at"] = payload.returned_at
    elif isinstance(payload, DossierAppraisalRecorded) and payload.step == "council_established":
        # The council's members who take part through their own accounts read the dossier and its files.
        fields["council_accounts"] = [m.account_id for m in payload.members or [] if m.account_id]
    return {"$set": fields} if fields else None


async def record_review_event(repo: DossierRepository, event: Envelope) -> None:
    """Keep intake's view of the dossier (status, due date, requested supplements, fee) from review's events."""
    for _ in range(VIEW_ATTEMPTS):
        current = await repo.by_id(event.partitionkey)
        if current is None or event.id in current.get(APPLIED_FIELD, ()):
            return  # not intake's dossier, or applied already
        update = view_update(event, current)
        if update is None:
            return
        # What the update was decided on: a withdrawal or another step written meanwhile means deciding again.
        read = {path: dotted(current, path) for path in VIEW_FACTS}
        if await repo.apply_event(event.partitionkey, event.id, update, unchanged=read):
            return
    raise TransientError(f"{event.subject}: the dossier kept changing while {event.type.short_name} was applied")


async def erase_personal_data(repo: DossierRepository, event: Envelope) -> None:
    """Erase intake's copy of a dossier's personal data once records has erased its own: the applicant's contact, and
    a citizen's name and identity number (an organisation's name and tax code are not personal data)."""
    payload = event.payload()
    assert isinstance(payload, DossierPersonalDataErased)
    current = await repo.by_id(event.partitionkey)
    if current is None:
        return
    erased = ["applicant.email", "applicant.phone", "applicant.address"]
    if current.get("applicant_kind") != "organisation":
        erased += ["applicant.name", "applicant_identifiers.personal_id"]
    update = {"$unset": dict.fromkeys(erased, ""), "$set": {"personal_data_erased_at": payload.erased_at}}
    await repo.apply_event(event.partitionkey, event.id, update)


def check_draft(
    version: ProcedureVersion, command: SubmitDossier, stored: dict[str, StoredFile], *, owner: Principal
) -> tuple[Document, list[Finding], list[Finding]]:
    """A draft's content, what is wrong in it (a component not of the procedure, a file not the author's or of a type
    or size refused, a field not of the procedure or of a wrong value) and what a submission would still miss."""
    components = {c.code: c.file_ids for c in command.components}
    facts = facts_of(stored)
    wrong = check_components(version, components, facts, applicant_id=owner.subject, complete=False)
    wrong += check_fields(version, command.fields, complete=False)
    if len(components) != len(command.components):
        wrong.append(Finding("components", "a component code is given twice"))
    missing = check_components(version, components, facts, applicant_id=owner.subject)
    missing += check_fields(version, command.fields)
    content: Document = {
        "procedure_code": version.procedure_code,
        "applicant_kind": command.applicant_kind,
        "components": [c.model_dump() for c in command.components],
        # Field names come from users: stored as name/value objects so no key holds a dot or a dollar.
        "fields": [{"name": name, "value": value} for name, value in command.fields.items()],
    }
    return content, wrong, missing


async def draft_content(
    catalog: CatalogStore, files: FileStore, *, owner: Principal, command: SubmitDossier, timezone: str
) -> Document:
    """A draft's content once checked like a submission, but incomplete: what is given must be right (InvalidDossier
    names what is not); what is missing is refused only at submission."""
    version = await procedure_in_force(catalog, command.procedure_code, service_day(bson_now(), timezone))
    stored = await files.get_many([f for c in command.components for f in c.file_ids])
    content, wrong, _ = check_draft(version, command, stored, owner=owner)
    if wrong:
        raise InvalidDossier(wrong)
    return content


async def draft_with_file(
    files: FileStore,
    version: ProcedureVersion,
    draft: Document,
    component: str,
    added: StoredFile,
    *,
    owner: Principal,
) -> Document:
    """A draft's content with one more file in a component, refused (422 naming `file`) when the component's rules
    refuse it: its type, its size, how many files the component takes."""
    command = draft_command(draft)
    given = next((c for c in command.components if c.code == component), None)
    if given is None:
        given = ComponentIn(code=component, file_ids=[])
        command.components.append(given)
    given.file_ids.append(added.id)
    stored = await files.get_many([f for c in command.components for f in c.file_ids])
    content, wrong, _ = check_draft(version, command, stored, owner=owner)
    about = f"components.{component}"
    refused = [f for f in wrong if f.field == about or f.field.startswith(about + ".")]
    if refused:
        raise Problem(
            422,
            "File refused",
            f"{component}: {refused[0].message}",
            errors=[{"field": "file", "in": "body", "message": f.message} for f in refused],
        )
    return content


def draft_command(draft: Document) -> SubmitDossier:
    """A stored draft as the submission it would make."""
    return SubmitDossier(
        procedure_code=draft["procedure_code"],
        applicant_kind=draft["applicant_kind"],
        components=[ComponentIn(**c) for c in draft["components"]],
        fields={f["name"]: f["value"] for f in draft["fields"]},
    )


def missing_in_draft(
    version: ProcedureVersion | None, draft: Document, stored: dict[str, StoredFile], *, owner: Principal
) -> list[Finding]:
    """What a submission of this draft would still refuse (an empty list: it is ready); `version` is the one in force
    (None: the procedure is no longer in force)."""
    if version is None:
        return [Finding("procedure_code", f"{draft['procedure_code']} is not in force today")]
    _, wrong, missing = check_draft(version, draft_command(draft), stored, owner=owner)
    return wrong + missing  # wrong: the catalog or a file changed since the draft was saved
