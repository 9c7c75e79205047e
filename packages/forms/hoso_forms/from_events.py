"""The form an event gives the applicant: 01 on reception, 02 on a supplement request, 03 on refusal, 04 on extension.

Notify attaches it to the e-mail; records renders the same form from the same event, so both agree to the byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from hoso.events.catalog import (
    DossierDeadlineExtended,
    DossierEventData,
    DossierReceived,
    DossierRefused,
    DossierSupplementRequested,
    EventData,
)
from hoso_forms.models import (
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
    channel: Literal["online", "in_person", "post"] | None = None,
) -> ReceiptForm | SupplementRequestForm | RefusalForm | ApologyForm | None:
    """The form `payload` gives the applicant, or None when it gives none."""
    if not isinstance(payload, DossierEventData):
        return None
    common: dict[str, Any] = {
        "agency_code": payload.agency_code,
        "dossier_code": payload.dossier_code,
        "procedure_name": procedure_name,
        "applicant_name": applicant_name,
        "channel": channel,
        "officer": officer,
    }
    match payload:
        case DossierReceived():
            return ReceiptForm(
                **common,
                issued_at=payload.received_at,
                receipt_number=payload.receipt_number,
                received_at=payload.received_at,
                appointment_at=payload.appointment_at,
                tracking_pin=tracking_pin,
                components=list(components),
            )
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
        case DossierDeadlineExtended():
            return ApologyForm(
                **common,
                issued_at=issued_at,
                reason=payload.reason,
                previous_due_at=payload.previous_due_at,
                new_due_at=payload.new_due_at,
            )
    return None
