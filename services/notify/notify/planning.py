"""Who gets what, on which channel: the deliveries the rules call for on an event (pure: no I/O).

The recipients are given (looked up by `notify.handlers`); planning chooses, for each rule of the event, each
recipient and each of their channels they can be reached on, the delivery's fields and its id (unique per event,
recipient and channel, so planning again creates nothing twice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hoso_forms import FormDossier, agency_name
from pydantic import BaseModel, ConfigDict

from hoso.documents import Document
from hoso.events import Envelope
from hoso.events.catalog import DossierAssigned, DossierEventData, DossierReceived, DossierSubmitted
from notify.domain.catalog import Channel, NotifyCatalog, RecipientRole, Target
from notify.domain.delivery import delivery_id
from notify.domain.messages import DossierFacts


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    role: RecipientRole
    name: str = ""
    email: str | None = None
    phone: str | None = None
    language: str = "vi"
    channels: dict[str, bool] = {}

    def address(self, channel: Channel) -> str | None:
        if not self.channels.get(channel.value, True):
            return None  # the recipient turned this channel off
        if channel is Channel.EMAIL:
            return self.email
        if channel is Channel.SMS:
            return self.phone
        return self.id


def recipient_of(doc: Document | None, role: RecipientRole, **override: Any) -> Recipient | None:
    """A recipient from their directory entry (and preferences), with what the dossier says of them over it."""
    if doc is None and not override:
        return None
    base = dict(doc or {})
    fields = {
        "id": base.get("_id"),
        "name": base.get("name", ""),
        "email": base.get("email"),
        "phone": base.get("phone"),
        "language": base.get("language", "vi"),
        "channels": base.get("channels", {}),
    }
    fields.update({k: v for k, v in override.items() if v is not None})
    return Recipient(role=role, **fields)


def dossier_fields(payload: DossierEventData) -> Document:
    """What notify remembers of a dossier from one of its events."""
    fields: Document = {"code": payload.dossier_code, "agency_code": payload.agency_code}
    if isinstance(payload, DossierSubmitted):
        fields.update(
            procedure_code=payload.procedure_code,
            procedure_name_vi=payload.procedure_name_vi,
            procedure_name_en=payload.procedure_name_en,
            applicant=payload.applicant.model_dump(),
            channel=payload.channel,
            components=[c.model_dump(mode="json") for c in payload.components],
        )
    elif isinstance(payload, DossierAssigned):
        fields["assignee_id"] = payload.assignee_id
    elif isinstance(payload, DossierReceived):
        fields["receipt_number"] = payload.receipt_number
    return fields


def facts(dossier: Document, language: str) -> DossierFacts:
    """The dossier as a message names it, in the recipient's language."""
    procedure = dossier.get(f"procedure_name_{language}") or dossier.get("procedure_name_vi", "")
    return DossierFacts(
        code=dossier.get("code", ""),
        procedure_name=procedure,
        agency_name=agency_name(dossier.get("agency_code", "")),
        applicant_name=(dossier.get("applicant") or {}).get("name", ""),
    )


def form_dossier(dossier: Document) -> FormDossier:
    """What the form a delivery attaches says of the dossier: as records' copy of it says (the same bytes)."""
    applicant = dossier.get("applicant") or {}
    return FormDossier.of(
        procedure_name=dossier.get("procedure_name_vi", ""),
        applicant_name=applicant.get("name", ""),
        contact=applicant,
        channel=dossier.get("channel"),
        components=dossier.get("components", []),
    )


def roles_of(catalog: NotifyCatalog, event: Envelope) -> list[RecipientRole]:
    """The recipients' roles the rules of `event` name, in order."""
    return list(dict.fromkeys(target.recipient for target in catalog.rules.get(event.type, ())))


def plan(
    catalog: NotifyCatalog,
    event: Envelope,
    payload: DossierEventData,
    dossier: Document,
    recipients: Mapping[RecipientRole, Sequence[Recipient]],
    *,
    sms: bool,
) -> list[tuple[str, Document]]:
    """The deliveries (id, fields) the rules call for on `event`: each recipient, on each of their channels (SMS
    only when a provider is configured)."""
    planned = []
    for target in catalog.rules.get(event.type, ()):
        if not target.applies(payload):
            continue
        for recipient in recipients.get(target.recipient, ()):
            for channel in target.channels:
                if channel is Channel.SMS and not sms:
                    continue
                if (delivery := _delivery(catalog, event, payload, dossier, target, recipient, channel)) is not None:
                    planned.append(delivery)
    return planned


def _delivery(
    catalog: NotifyCatalog,
    event: Envelope,
    payload: DossierEventData,
    dossier: Document,
    target: Target,
    recipient: Recipient,
    channel: Channel,
) -> tuple[str, Document] | None:
    """The delivery's id and fields; None when the recipient cannot be reached on this channel."""
    address = recipient.address(channel)
    if not address:
        return None
    template = catalog.template(event.type.short_name, target.recipient, channel)
    language = recipient.language
    form = target.form if channel is Channel.EMAIL else None  # only an e-mail carries the form
    fields = {
        "event_id": event.id,
        "event_type": event.type.short_name,
        "dossier_id": payload.dossier_id,
        "dossier_code": payload.dossier_code,
        "agency_code": payload.agency_code,
        "recipient_id": recipient.id,
        "recipient_role": target.recipient.value,
        "recipient_name": recipient.name,
        "channel": channel.value,
        "address": address,
        "language": language,
        "template": str(template.key),
        "template_version": template.version,
        "form": form.value if form is not None else None,
        "facts": facts(dossier, language).model_dump(),
        "form_dossier": form_dossier(dossier).model_dump(mode="json") if form is not None else None,
        "envelope": event.model_dump_json(),
        "correlation_id": event.correlationid,
    }
    return delivery_id(event.id, recipient.id, channel.value), fields
