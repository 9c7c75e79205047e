"""The form an event gives the applicant: 01 on reception, 02 on a supplement request, 03 on refusal, 04 on extension.

Notify attaches it to the e-mail; records renders the same form from the same event, so both agree to the byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hoso.events.catalog import (
    DossierDeadlineExtended,
    DossierReceived,
    DossierRefused,
    DossierSupplementRequested,
    EventData,
)
from hoso.forms.models import (
    ApologyForm,
    FormCode,
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
    procedure_name: str = "",
    applicant_name: str = "",
    officer: str = "",
    components: Sequence[str] = (),
    tracking_pin: str | None = None,
) -> ReceiptForm | SupplementRequestForm | RefusalForm | ApologyForm | None:
    """The form `payload` gives the applicant, or None when it gives none."""
    match payload:
        case DossierReceived():
            return ReceiptForm(
                agency_code=payload.agency_code,
                dossier_code=payload.dossier_code,
                procedure_name=procedure_name,
                applicant_name=applicant_name,
                issued_at=payload.received_at,
                receipt_number=payload.receipt_number,
                received_at=payload.received_at,
                appointment_at=payload.appointment_at,
                tracking_pin=tracking_pin,
                components=list(components),
                officer=officer,
            )
        case DossierSupplementRequested():
            return SupplementRequestForm(
                agency_code=payload.agency_code,
                dossier_code=payload.dossier_code,
                procedure_name=procedure_name,
                applicant_name=applicant_name,
                issued_at=issued_at,
                items=payload.items,
                reason=payload.reason,
                supplement_due_at=payload.supplement_due_at,
                officer=officer,
            )
        case DossierRefused():
            return RefusalForm(
                agency_code=payload.agency_code,
                dossier_code=payload.dossier_code,
                procedure_name=procedure_name,
                applicant_name=applicant_name,
                issued_at=issued_at,
                reason=payload.reason,
                officer=officer,
            )
        case DossierDeadlineExtended():
            return ApologyForm(
                agency_code=payload.agency_code,
                dossier_code=payload.dossier_code,
                procedure_name=procedure_name,
                applicant_name=applicant_name,
                issued_at=issued_at,
                reason=payload.reason,
                previous_due_at=payload.previous_due_at,
                new_due_at=payload.new_due_at,
                officer=officer,
            )
    return None
