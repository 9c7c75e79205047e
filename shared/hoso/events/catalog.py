"""The event catalog: one pydantic payload model per CloudEvents type.

Payloads may grow (new optional fields); a change that breaks a consumer of the committed JSON Schema fails
`tests/unit/test_event_schemas.py`. Consumers ignore fields they do not know.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hoso.events.status import PublicStatus
from hoso.topics import DOSSIER_EVENTS, NOTIFICATION_EVENTS

TYPE_PREFIX = "vn.gov.hoso."


class EventType(StrEnum):
    DOSSIER_SUBMITTED = "vn.gov.hoso.dossier.submitted.v1"
    DOSSIER_SUPPLEMENTED = "vn.gov.hoso.dossier.supplemented.v1"
    DOSSIER_WITHDRAWAL_REQUESTED = "vn.gov.hoso.dossier.withdrawal_requested.v1"
    DOSSIER_WITHDRAWAL_ACCEPTED = "vn.gov.hoso.dossier.withdrawal_accepted.v1"
    DOSSIER_FEE_PAID = "vn.gov.hoso.dossier.fee_paid.v1"
    DOSSIER_RECEIVED = "vn.gov.hoso.dossier.received.v1"
    DOSSIER_REFUSED = "vn.gov.hoso.dossier.refused.v1"
    DOSSIER_ASSIGNED = "vn.gov.hoso.dossier.assigned.v1"
    DOSSIER_SUPPLEMENT_REQUESTED = "vn.gov.hoso.dossier.supplement_requested.v1"
    DOSSIER_FEE_REQUESTED = "vn.gov.hoso.dossier.fee_requested.v1"
    DOSSIER_APPRAISAL_RECORDED = "vn.gov.hoso.dossier.appraisal_recorded.v1"
    DOSSIER_PROCESSING_RESUMED = "vn.gov.hoso.dossier.processing_resumed.v1"
    DOSSIER_DECISION_PROPOSED = "vn.gov.hoso.dossier.decision_proposed.v1"
    DOSSIER_APPROVED = "vn.gov.hoso.dossier.approved.v1"
    DOSSIER_REJECTED = "vn.gov.hoso.dossier.rejected.v1"
    DOSSIER_RESULT_RETURNED = "vn.gov.hoso.dossier.result_returned.v1"
    DOSSIER_STOPPED = "vn.gov.hoso.dossier.stopped.v1"
    DOSSIER_DEADLINE_EXTENDED = "vn.gov.hoso.dossier.deadline_extended.v1"
    DOSSIER_DUE_SOON = "vn.gov.hoso.dossier.due_soon.v1"
    DOSSIER_OVERDUE = "vn.gov.hoso.dossier.overdue.v1"
    DOSSIER_ARCHIVED = "vn.gov.hoso.dossier.archived.v1"
    DOSSIER_MESSAGE_SENT = "vn.gov.hoso.dossier.message_sent.v1"
    DOSSIER_MESSAGE_READ = "vn.gov.hoso.dossier.message_read.v1"
    DOSSIER_PERSONAL_DATA_ERASED = "vn.gov.hoso.dossier.personal_data_erased.v1"
    NOTIFICATION_DELIVERED = "vn.gov.hoso.notification.delivered.v1"
    NOTIFICATION_FAILED = "vn.gov.hoso.notification.failed.v1"

    @property
    def short_name(self) -> str:
        """`dossier.submitted` for `vn.gov.hoso.dossier.submitted.v1`."""
        return self.value.removeprefix(TYPE_PREFIX).rsplit(".", 1)[0]


class EventData(BaseModel):
    """Base of every payload: unknown fields are ignored so that payloads can grow."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class DossierEventData(EventData):
    dossier_id: str = Field(min_length=1, description="Stable dossier id; the Kafka key")
    dossier_code: str = Field(min_length=1, description="Public dossier code <agency>-<YYMMDD>-<NNNN>")
    procedure_code: str = Field(min_length=1)
    agency_code: str = Field(min_length=1)
    status_code: PublicStatus = Field(description="The public status code this event leads to")
    workflow_version: int | None = Field(
        default=None,
        ge=1,
        description="Review's events: the version of the dossier's workflow this step made (the status of a higher "
        "version supersedes it); none on the events of other services",
    )
    answers_event: str | None = Field(
        default=None,
        description="Review's events: the id of the applicant's request (supplement, fee payment, withdrawal) this "
        "step took, if it took one",
    )
    clock_paused: bool | None = Field(
        default=None,
        description="Review's events: whether the dossier's legal clock stands still after this step (its workflow's "
        "state waits on the applicant: a supplement, a fee); none on the events of other services",
    )


class Applicant(EventData):
    id: str = Field(min_length=1, description="Subject of the applicant's token")
    kind: Literal["citizen", "organisation"] = "citizen"
    name: str = ""
    email: str | None = None
    phone: str | None = None
    address: str | None = Field(default=None, description="Where the applicant lives or has its seat (personal data)")


class FileRef(EventData):
    id: str = Field(min_length=1)
    name: str = ""
    content_type: str = Field(min_length=1)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ComponentFiles(EventData):
    code: str = Field(min_length=1)
    name: str = Field(default="", description="The component's Vietnamese name in the procedure version")
    paper_copies: int | None = Field(default=None, ge=1, description="Paper copies the procedure version asks for")
    file_ids: list[str] = Field(default_factory=list)
    files: list[FileRef] = Field(default_factory=list, description="The files with their SHA-256 (archive hand-over)")


class DeadlineTerms(EventData):
    amount: int = Field(gt=0)
    unit: Literal["working_days", "working_hours", "calendar_days"]


Channel = Literal["online", "in_person", "post"]


class DossierSubmitted(DossierEventData):
    procedure_version: str = Field(min_length=1)
    applicant: Applicant
    submitted_at: datetime
    channel: Channel = Field(
        default="online", description="How it came: online, in person at the one-stop desk, or by post"
    )
    registered_by: str | None = Field(
        default=None, description="The reception officer who registered a paper dossier at the desk"
    )
    components: list[ComponentFiles] = Field(default_factory=list)
    fields: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    procedure_name_vi: str = ""
    procedure_name_en: str = ""
    deadline: DeadlineTerms | None = Field(default=None, description="The legal time limit of the procedure version")
    supplement_policy: Literal["pause", "reset"] | None = None
    supplement_deadline: DeadlineTerms | None = None
    fee_vnd: int | None = Field(default=None, ge=0, description="The fee the catalog computes, when it can")


# What a supplement answers: the missing documents of an incomplete dossier, or the report revised after the council.
SupplementPurpose = Literal["supplement", "revision"]


class DossierSupplemented(DossierEventData):
    supplement_id: str = Field(min_length=1)
    components: list[ComponentFiles] = Field(default_factory=list)
    note: str = ""
    purpose: SupplementPurpose = Field(
        default="supplement",
        description="What the documents answer: supplement, the missing documents of an incomplete dossier; "
        "revision, the report revised after the appraisal council (as `dossier.supplement_requested` asked)",
    )


class DossierWithdrawalRequested(DossierEventData):
    reason: str = Field(min_length=1)


class DossierWithdrawalAccepted(DossierEventData):
    """Review has taken the applicant's withdrawal request: the dossier waits for an officer to stop processing."""

    reason: str = Field(min_length=1, description="The applicant's reason, as requested")


class DossierFeePaid(DossierEventData):
    amount: Decimal = Field(ge=0)
    currency: Literal["VND"] = "VND"
    payment_reference: str = Field(min_length=1)


class Attachment(EventData):
    """A document an officer attached to an action (the signed decision, a minutes), kept in the agency's DMS."""

    id: str = Field(min_length=1)
    name: str = ""
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


SYSTEM_ACTOR = "system"
"""The actor of what the platform does by itself (a timer's refusal)."""


class OfficerAction(DossierEventData):
    actor_id: str = Field(min_length=1, description="The officer who acted ('system' for a timer)")
    actor_name: str = Field(default="", description="The officer's full name, as their account gives it")
    actor_title: str = Field(default="", description="The officer's position (chức vụ), as their account gives it")
    attachment: Attachment | None = None


class DossierReceived(OfficerAction):
    receipt_number: str = Field(min_length=1)
    received_at: datetime
    appointment_at: datetime
    due_at: datetime
    tracking_pin_hash: str | None = Field(default=None, description="scrypt hash of the tracking PIN (hoso.pins)")
    tracking_pin_sealed: str | None = Field(
        default=None, description="The tracking PIN sealed with the platform's seal key, for the applicant's receipt"
    )


class DossierRefused(OfficerAction):
    reason: str = Field(min_length=1)


class DossierAssigned(OfficerAction):
    assignee_id: str = Field(min_length=1)
    assignee_name: str = Field(default="", description="The assignee's full name, as the desk's directory gives it")


class DossierSupplementRequested(OfficerAction):
    items: list[str] = Field(min_length=1)
    supplement_due_at: datetime
    reason: str = ""
    purpose: SupplementPurpose = Field(
        default="supplement",
        description="supplement: the dossier is incomplete; revision: the report is to be revised after the "
        "appraisal council (the project owner's time is excluded from the time limit)",
    )


CouncilRole = Literal["chair", "vice_chair", "secretary", "reviewer", "member"]
Conclusion = Literal["approve", "approve_with_revisions", "not_approve"]
AppraisalStepName = Literal["council_established", "review_submitted", "site_surveyed", "consulted", "meeting_held"]


class CouncilMember(EventData):
    """A member of an appraisal council as its establishing decision names them."""

    name: str = Field(min_length=1, max_length=200)
    role: CouncilRole
    affiliation: str = Field(default="", max_length=300, description="Where they work, for members from outside")
    account_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Their account, when they take part on the platform"
    )


class DossierAppraisalRecorded(OfficerAction):
    """A step of an appraisal through a council: its establishment, a member's written review, a site survey, the
    meeting with its conclusion. The record of each is the dossier's; the state moves only at the meeting."""

    step: AppraisalStepName
    summary: str = Field(default="", description="The review, the survey's findings, the minutes' summary")
    decision_number: str | None = Field(default=None, description="council_established: the establishing decision")
    members: list[CouncilMember] | None = Field(default=None, description="council_established: the members")
    member_name: str | None = Field(default=None, description="review_submitted: whose review it is")
    conclusion: Conclusion | None = Field(
        default=None, description="meeting_held: the council's; review_submitted: the member's opinion"
    )


class DossierFeeRequested(OfficerAction):
    amount: Decimal = Field(ge=0)
    currency: Literal["VND"] = "VND"
    description: str = ""


class DossierProcessingResumed(DossierEventData):
    due_at: datetime | None = None
    promised_at: datetime | None = Field(
        default=None,
        description=(
            "The appointment date as the receipt promised it, moved by the pauses but not by extensions: what the "
            "national statistics judge on time against"
        ),
    )
    reason: str = Field(
        default="", description="Why, in Vietnamese as the forms print it (the supplement came, the fee was paid)"
    )
    after: Literal["supplemented", "revised", "fee_paid"] | None = Field(
        default=None,
        description="What of the applicant's review took: the missing documents, the revised report, the fee paid "
        "(which, paid while the appraisal goes on, resumes nothing: the step only records it)",
    )


class DossierDecisionProposed(OfficerAction):
    proposal: Literal["approve", "reject"]
    summary: str = ""


class DossierApproved(OfficerAction):
    decision_number: str = ""


class DossierRejected(OfficerAction):
    reason: str = Field(min_length=1)


class DossierResultReturned(OfficerAction):
    returned_at: datetime


class DossierStopped(OfficerAction):
    reason: str = Field(min_length=1)


class DossierDeadlineExtended(OfficerAction):
    reason: str = Field(min_length=1)
    previous_due_at: datetime
    new_due_at: datetime
    granted_by: str | None = Field(
        default=None,
        description="The authority the law lets extend the time limit, in Vietnamese (Law 72/2020/QH14 Art. 34(6)(d): "
        "the Prime Minister for an EIA appraisal), whose decision the officer recorded; none for the agency's own "
        "extension with an apology (Form 04)",
    )
    decision_number: str | None = Field(default=None, description="With granted_by: the number of its decision")
    article: str | None = Field(default=None, description="With granted_by: where the law lets it extend")
    promised_at: datetime | None = Field(
        default=None,
        description="The appointment as promised after this step: moved to new_due_at by an extension the law grants, "
        "left where it was by an extension with an apology (an apology does not make a late dossier on time)",
    )


class DossierDueSoon(DossierEventData):
    due_at: datetime


class DossierOverdue(DossierEventData):
    due_at: datetime


class DossierArchived(DossierEventData):
    package_id: str = Field(min_length=1)
    package_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    chain_head: str = Field(pattern=r"^[0-9a-f]{64}$")


class TimelineNote(EventData):
    """An event a dossier's timeline records that changes nothing of its workflow (no status): a delivery, a message."""

    dossier_id: str = Field(min_length=1)
    dossier_code: str = Field(min_length=1)


class DossierMessage(TimelineNote):
    """A message on a dossier between its applicant and the agency. Its text stays with intake, where it can be
    erased; the timeline keeps the text's SHA-256 and the attachments' names and digests."""

    procedure_code: str = Field(min_length=1)
    agency_code: str = Field(min_length=1)
    message_id: str = Field(min_length=1)
    side: Literal["applicant", "agency"] = Field(description="Who wrote it: the applicant or the agency's officer")


class DossierMessageSent(DossierMessage):
    author_id: str = Field(min_length=1)
    text_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    attachments: list[FileRef] = Field(default_factory=list)
    sent_at: datetime


class DossierMessageRead(DossierMessage):
    reader_id: str = Field(min_length=1, description="Who on the other side opened it")
    read_at: datetime


class DossierPersonalDataErased(TimelineNote):
    """A dossier's personal data (the applicant's contact, a citizen's name and identity number) was erased where it
    is kept. Records' chain keeps only salted digests of it, which can no longer be tested; intake erases its copy."""

    erased: list[str] = Field(description="What records erased, as paths in the submission (`applicant.email`, ...)")
    reason: str = Field(min_length=1, description="Why: the data subject's request and its reference")
    actor_id: str = Field(min_length=1, description="Who erased it")
    erased_at: datetime


class NotificationOutcome(TimelineNote):
    delivery_id: str = Field(min_length=1)
    source_event_id: str = Field(min_length=1)
    channel: Literal["email", "sms", "in_app"]
    recipient_id: str = Field(min_length=1)
    template: str = Field(min_length=1)


class NotificationDelivered(NotificationOutcome):
    delivered_at: datetime


class NotificationFailed(NotificationOutcome):
    failure: Literal["permanent-failure", "temporary-failure", "technical-failure"]
    reason: str = ""


EVENT_MODELS: dict[EventType, type[EventData]] = {
    EventType.DOSSIER_SUBMITTED: DossierSubmitted,
    EventType.DOSSIER_SUPPLEMENTED: DossierSupplemented,
    EventType.DOSSIER_WITHDRAWAL_REQUESTED: DossierWithdrawalRequested,
    EventType.DOSSIER_WITHDRAWAL_ACCEPTED: DossierWithdrawalAccepted,
    EventType.DOSSIER_FEE_PAID: DossierFeePaid,
    EventType.DOSSIER_RECEIVED: DossierReceived,
    EventType.DOSSIER_REFUSED: DossierRefused,
    EventType.DOSSIER_ASSIGNED: DossierAssigned,
    EventType.DOSSIER_SUPPLEMENT_REQUESTED: DossierSupplementRequested,
    EventType.DOSSIER_FEE_REQUESTED: DossierFeeRequested,
    EventType.DOSSIER_APPRAISAL_RECORDED: DossierAppraisalRecorded,
    EventType.DOSSIER_PROCESSING_RESUMED: DossierProcessingResumed,
    EventType.DOSSIER_DECISION_PROPOSED: DossierDecisionProposed,
    EventType.DOSSIER_APPROVED: DossierApproved,
    EventType.DOSSIER_REJECTED: DossierRejected,
    EventType.DOSSIER_RESULT_RETURNED: DossierResultReturned,
    EventType.DOSSIER_STOPPED: DossierStopped,
    EventType.DOSSIER_DEADLINE_EXTENDED: DossierDeadlineExtended,
    EventType.DOSSIER_DUE_SOON: DossierDueSoon,
    EventType.DOSSIER_OVERDUE: DossierOverdue,
    EventType.DOSSIER_ARCHIVED: DossierArchived,
    EventType.DOSSIER_MESSAGE_SENT: DossierMessageSent,
    EventType.DOSSIER_MESSAGE_READ: DossierMessageRead,
    EventType.DOSSIER_PERSONAL_DATA_ERASED: DossierPersonalDataErased,
    EventType.NOTIFICATION_DELIVERED: NotificationDelivered,
    EventType.NOTIFICATION_FAILED: NotificationFailed,
}


def topic_of(event_type: EventType) -> str:
    """The topic an event type is published to: notification outcomes have theirs, everything else is a dossier's."""
    return NOTIFICATION_EVENTS if issubclass(EVENT_MODELS[event_type], NotificationOutcome) else DOSSIER_EVENTS
