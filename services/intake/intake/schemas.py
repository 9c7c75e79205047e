"""Request and response bodies of intake's HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hoso.events import PublicStatus, status_label
from hoso.events.catalog import SupplementPurpose
from hoso.mongo import Document
from hoso.pins import PinSealError, unseal_pin
from intake.domain.catalog import ProcedureVersion
from intake.domain.lifecycle import ApplicantAction, allowed_actions, fee_due
from intake.files import StoredFile

FieldValue = str | int | float | bool | None
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
ComponentCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
FileId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]


class ComponentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: ComponentCode
    file_ids: list[FileId] = Field(default_factory=list, max_length=50)


class SubmitDossier(BaseModel):
    """A dossier: the procedure, the files of each component, and the procedure's fields."""

    model_config = ConfigDict(extra="forbid")

    procedure_code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    applicant_kind: Literal["citizen", "organisation"] = "citizen"
    components: list[ComponentIn] = Field(default_factory=list, max_length=50)
    fields: dict[FieldName, FieldValue] = Field(default_factory=dict, max_length=100)


class DeskApplicant(BaseModel):
    """The person or organisation a reception officer registers a paper dossier for, as their papers show them."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["citizen", "organisation"]
    name: str = Field(min_length=2, max_length=300)
    personal_id: str | None = Field(
        default=None, pattern=r"^\d{12}$", description="A citizen's personal identification number (12 digits)"
    )
    tax_code: str | None = Field(
        default=None, pattern=r"^\d{10}(-\d{3})?$", description="An organisation's tax code (10 digits, or 10-3)"
    )
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9 ().-]{6,30}$")
    address: str | None = Field(default=None, min_length=5, max_length=500, description="As the papers give it")

    @model_validator(mode="after")
    def identified(self) -> DeskApplicant:
        if self.kind == "citizen" and not self.personal_id:
            raise ValueError("personal_id: a citizen is identified by their personal identification number")
        if self.kind == "organisation" and not self.tax_code:
            raise ValueError("tax_code: an organisation is identified by its tax code")
        return self

    @property
    def identifier(self) -> str:
        return self.personal_id if self.kind == "citizen" and self.personal_id else str(self.tax_code)


class RegisterDossier(BaseModel):
    """A paper dossier brought to the one-stop desk or received by post, registered by a reception officer with the
    files they scanned (uploaded under their own account)."""

    model_config = ConfigDict(extra="forbid")

    procedure_code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    channel: Literal["in_person", "post"]
    applicant: DeskApplicant
    components: list[ComponentIn] = Field(default_factory=list, max_length=50)
    fields: dict[FieldName, FieldValue] = Field(default_factory=dict, max_length=100)

    def as_submission(self) -> SubmitDossier:
        return SubmitDossier(
            procedure_code=self.procedure_code,
            applicant_kind=self.applicant.kind,
            components=self.components,
            fields=self.fields,
        )


class FindingOut(BaseModel):
    field: str
    message: str


class DraftOut(BaseModel):
    """A dossier being prepared: what its author has given so far, and what a submission would still refuse."""

    id: str
    procedure_code: str
    applicant_kind: Literal["citizen", "organisation"]
    components: list[ComponentIn]
    fields: dict[str, FieldValue]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    files: list[FileOut]
    missing: list[FindingOut]

    @classmethod
    def of(cls, doc: Document, files: list[FileOut], missing: list[FindingOut]) -> DraftOut:
        return cls(
            id=doc["_id"],
            procedure_code=doc["procedure_code"],
            applicant_kind=doc["applicant_kind"],
            components=[ComponentIn(**c) for c in doc["components"]],
            fields={f["name"]: f["value"] for f in doc["fields"]},
            created_at=doc["created_at"],
            updated_at=doc["updated_at"],
            expires_at=doc["expires_at"],
            files=files,
            missing=missing,
        )


class DraftList(BaseModel):
    items: list[DraftOut]


class SupplementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    components: list[ComponentIn] = Field(min_length=1, max_length=50)
    note: str = Field(default="", max_length=2000)


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


class StatusOut(BaseModel):
    code: PublicStatus
    label_vi: str
    label_en: str

    @classmethod
    def of(cls, code: int) -> StatusOut:
        status = PublicStatus(code)
        return cls(code=status, label_vi=status_label(status, "vi"), label_en=status_label(status, "en"))


class SupplementRequestOut(BaseModel):
    items: list[str]
    due_at: datetime | None
    reason: str = ""
    requested_at: datetime | None = None
    purpose: SupplementPurpose = Field(
        default="supplement",
        description="supplement: documents missing from the dossier; revision: the report revised after the council",
    )


class ExtensionOut(BaseModel):
    """The latest extension of the deadline: the agency's, with the apology's reason (Form 04), or one the law grants,
    with the decision of the authority that granted it."""

    reason: str
    new_due_at: datetime
    at: datetime
    granted_by: str | None = Field(default=None, description="The authority whose decision extended it (Vietnamese)")
    decision_number: str | None = Field(default=None, description="With granted_by: the number of its decision")


class DecisionOut(BaseModel):
    outcome: Literal["approved", "rejected", "refused", "stopped"]
    reason: str = ""
    decision_number: str = ""
    at: datetime


class WithdrawalOut(BaseModel):
    """The applicant's request to withdraw: when they asked, and when review took it (None: on its way)."""

    reason: str
    at: datetime
    accepted_at: datetime | None = None


class FeeOut(BaseModel):
    amount_vnd: int
    requested_at: datetime | None
    paid_at: datetime | None


class ApplicantOut(BaseModel):
    """Who filed the dossier, as the identity provider vouched for them; for its owner and the agency's officers."""

    kind: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    personal_id: str | None = None
    tax_code: str | None = None

    @classmethod
    def of(cls, doc: Document, *, contact_details: bool = True) -> ApplicantOut:
        """With `contact_details` off (an appraisal council's member), who filed it and nothing to reach them by."""
        contact = doc.get("applicant") or {}
        ids = doc.get("applicant_identifiers") or {}
        if not contact_details:
            return cls(kind=doc["applicant_kind"], name=contact.get("name"))
        return cls(
            kind=doc["applicant_kind"],
            name=contact.get("name"),
            email=contact.get("email"),
            phone=contact.get("phone"),
            address=contact.get("address"),
            personal_id=ids.get("personal_id"),
            tax_code=ids.get("tax_code"),
        )


class FieldOut(BaseModel):
    name: str
    value: FieldValue


class SupplementOut(BaseModel):
    id: str
    at: datetime
    note: str | None = None
    components: list[ComponentIn]
    purpose: SupplementPurpose = Field(
        default="supplement", description="What it answered: missing documents, or the report's revision"
    )

    @classmethod
    def of(cls, record: Document) -> SupplementOut:
        components = [ComponentIn(code=c["code"], file_ids=c["file_ids"]) for c in record["components"]]
        return cls(
            id=record["id"],
            at=record["at"],
            note=record.get("note"),
            components=components,
            purpose=record.get("purpose", "supplement"),
        )


class DossierOut(BaseModel):
    id: str
    code: str
    procedure_code: str
    procedure_version: str
    agency_code: str
    submitted_at: datetime
    status: StatusOut
    status_since: datetime | None = None
    channel: Literal["online", "in_person", "post"] = Field(description="How the dossier came")
    receipt_number: str | None = None
    received_at: datetime | None = None
    tracking_pin: str | None = Field(default=None, description="The receipt's tracking PIN (its owner alone sees it)")
    due_at: datetime | None = None
    appointment_at: datetime | None = None
    clock_paused: bool = Field(
        default=False, description="Whether the legal clock stands still (the agency waits on the applicant)"
    )
    supplement_request: SupplementRequestOut | None = None
    fee: FeeOut | None = None
    extension: ExtensionOut | None = None
    decision: DecisionOut | None = None
    withdrawal: WithdrawalOut | None = None
    result_returned_at: datetime | None = None
    applicant: ApplicantOut
    fields: list[FieldOut] = Field(default_factory=list, description="What the applicant filled in, in their order")
    components: list[ComponentIn]
    supplements: list[SupplementOut] = Field(default_factory=list, description="Files added later, in order")
    files: list[FileOut] = Field(default_factory=list, description="The files' names, sizes and SHA-256 (one dossier)")
    allowed_actions: list[ApplicantAction] = Field(description="What the applicant may do now (none for officers)")

    @classmethod
    def of(
        cls,
        doc: Document,
        *,
        seal_key: str | None = None,
        files: list[FileOut] | None = None,
        owner: bool = True,
        contact: bool = True,
    ) -> DossierOut:
        status = PublicStatus(doc["status_code"])
        supplement = doc.get("supplement_request")
        fee = doc.get("fee")
        return cls(
            id=doc["_id"],
            code=doc["code"],
            procedure_code=doc["procedure_code"],
            procedure_version=doc["procedure_version"],
            agency_code=doc["agency_code"],
            submitted_at=doc["submitted_at"],
            status=StatusOut.of(status),
            status_since=doc.get("status_updated_at"),
            channel=doc["channel"],
            receipt_number=doc.get("receipt_number"),
            received_at=doc.get("received_at"),
            tracking_pin=_unsealed(doc.get("tracking_pin_sealed"), seal_key),
            due_at=doc.get("due_at"),
            appointment_at=doc.get("appointment_at"),
            clock_paused=bool(doc.get("clock_paused")),
            supplement_request=SupplementRequestOut(**supplement) if supplement else None,
            fee=FeeOut(**fee) if fee else None,
            extension=ExtensionOut(**doc["extension"]) if doc.get("extension") else None,
            decision=DecisionOut(**doc["decision"]) if doc.get("decision") else None,
            withdrawal=WithdrawalOut(**doc["withdrawal"]) if doc.get("withdrawal") else None,
            result_returned_at=doc.get("result_returned_at"),
            applicant=ApplicantOut.of(doc, contact_details=contact),
            fields=[FieldOut(name=f["name"], value=f["value"]) for f in doc.get("fields", [])],
            components=[ComponentIn(code=c["code"], file_ids=c["file_ids"]) for c in doc.get("components", [])],
            supplements=[SupplementOut.of(s) for s in doc.get("supplements", [])],
            files=files or [],
            allowed_actions=allowed_actions(status, fee_unpaid=fee_due(doc)) if owner else [],
        )


def _unsealed(sealed: str | None, key: str | None) -> str | None:
    if not sealed or not key:
        return None
    try:
        return unseal_pin(sealed, key)
    except PinSealError:  # sealed with another key (rotated): the receipt still carries it
        return None


class DossierPage(BaseModel):
    items: list[DossierOut]
    offset: int
    limit: int
    total: int


class FileOut(BaseModel):
    id: str
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime

    @classmethod
    def of(cls, f: StoredFile) -> FileOut:
        return cls(
            id=f.id, name=f.name, content_type=f.content_type, size=f.size, sha256=f.sha256, uploaded_at=f.uploaded_at
        )


class VersionSummary(BaseModel):
    version: str
    effective_from: date
    effective_to: date | None


class ProcedureSummary(BaseModel):
    procedure_code: str
    name_vi: str
    name_en: str
    version: str
    national_code: str | None
    online_mode: str

    @classmethod
    def of(cls, v: ProcedureVersion) -> ProcedureSummary:
        return cls(
            procedure_code=v.procedure_code,
            name_vi=v.name_vi,
            name_en=v.name_en,
            version=v.version,
            national_code=v.national_code,
            online_mode=v.online_mode,
        )


class ProcedureOut(BaseModel):
    in_force: ProcedureVersion
    versions: list[VersionSummary]


class FeeQuote(BaseModel):
    procedure_code: str
    version: str
    amount_vnd: int
    legal_basis: str
    uncertain: bool
    note: str


class PaymentOut(BaseModel):
    provider: str
    reference: str
    amount_vnd: int
    payment_url: str


class CallbackAnswer(BaseModel):
    RspCode: str
    Message: str


class MessageIn(BaseModel):
    """A message on a dossier, with files uploaded before through /api/v1/files by its author."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)
    file_ids: list[FileId] = Field(default_factory=list, max_length=10)


class AttachmentOut(BaseModel):
    id: str
    name: str
    content_type: str
    size: int
    sha256: str


class MessageOut(BaseModel):
    id: str
    side: Literal["applicant", "agency"] = Field(description="Who wrote it: the applicant or the agency")
    author_name: str
    text: str
    attachments: list[AttachmentOut]
    sent_at: datetime
    read_at: datetime | None = Field(description="When the other side first opened it; None while unread")

    @classmethod
    def of(cls, message: Document) -> MessageOut:
        return cls(
            id=message["id"],
            side=message["side"],
            author_name=message["author_name"],
            text=message["text"],
            attachments=[AttachmentOut(**a) for a in message["attachments"]],
            sent_at=message["sent_at"],
            read_at=message["read_at"],
        )


class MessageList(BaseModel):
    items: list[MessageOut]
    unread: int = Field(description="Messages of the other side the caller has not opened yet")
