"""The form an event gives the applicant: 01 on reception, 02 on a supplement request, 03 on refusal, 04 on extension.

Notify attaches it to the e-mail; records renders the same form from the same event, so both agree to the byte.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hoso.events.catalog import (
    DossierDeadlineExtended,
    DossierEventData,
    DossierReceived,
    DossierRefused,
    DossierSupplementRequested,
    EventData,
    OfficerAction,
)
from hoso_forms.models import (
    ApologyForm,
    FormCode,
    FormDossier,
    ReceiptForm,
    RefusalForm,
    SupplementRequestForm,
)

FORM_OF_EVENT: dict[type[EventData], FormCode] = {
    DossierReceived: FormCode.RECEIPT,
    DossierSupplementRequested: FormCode.SUPPLEMENT_REQUEST,
    DossierRefused: FormCode.REFUSAL,
    DossierDeadlineExtended: FormCode.APOLOGY,
}


def form_for_event(
    payload: EventData,
    *,
    issued_at: datetime,
    dossier: FormDossier,
    tracking_pin: str | None = None,
) -> ReceiptForm | SupplementRequestForm | RefusalForm | ApologyForm | None:
    """The form `payload` gives the applicant, or None when it gives none. It is signed by the officer who acted, by
    name and position (a timer's refusal is signed by nobody)."""
    if not isinstance(payload, DossierEventData):
        return None
    common: dict[str, Any] = {
        "agency_code": payload.agency_code,
        "dossier_code": payload.dossier_code,
        "procedure_name": dossier.procedure_name,
        "applicant_name": dossier.applicant_name,
        "applicant_email": dossier.applicant_email,
        "applicant_phone": dossier.applicant_phone,
        "applicant_address": dossier.applicant_address,
        "channel": dossier.channel,
    }
    if isinstance(payload, OfficerAction):
        common.update(officer=payload.actor_name, officer_title=payload.actor_title)
    match payload:
        case DossierReceived():
            return ReceiptForm(
                **common,
                issued_at=payload.received_at,
                receipt_number=payload.receipt_number,
                received_at=payload.received_at,
                appointment_at=payload.appointment_at,
                tracking_pin=tracking_pin,
                components=dossier.components,
            )
        case DossierSupplementRequested(purpose="revision"):
            return None  # the revision after an appraisal council is the agency's own notice, not Form 02
        case DossierSupplementRequested():
            return SupplementRequestForm(
                **common,
                issued_at=issued_at,
                items=payload.items,
                reason=payload.reason,
                supplement_due_at=payload.supplement_due_at,
            )
        case DossierRefused():
            return RefusalForm(**common, issued_at=issued_at, reason=payload.reason)
        case DossierDeadlineExtended(granted_by=str()):
            return None  # an extension the law grants (its authority's decision) is no apology: no Form 04
        case DossierDeadlineExtended():
            return ApologyForm(
                **common,
                issued_at=issued_at,
                reason=payload.reason,
                previous_due_at=payload.previous_due_at,
                new_due_at=payload.new_due_at,
            )
    return None
