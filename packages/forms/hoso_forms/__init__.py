"""The one-stop forms of Circular 01/2018/TT-VPCP as PDF, with an embedded font that has every Vietnamese letter.

Notify attaches 01 to 04 to the applicant's e-mails; records renders all six for officers and the archive package.
Rendering is deterministic: the same form data gives the same bytes (the document date is the form's issue time).
"""

from hoso_forms.from_events import FORM_OF_EVENT, form_for_event
from hoso_forms.models import (
    AGENCY_NAMES,
    ApologyForm,
    ComponentLine,
    ControlStep,
    FormCode,
    FormData,
    FormDossier,
    ProcessControlForm,
    ReceiptForm,
    RefusalForm,
    SupplementRequestForm,
    TrackingBookForm,
    TrackingRow,
    agency_name,
)
from hoso_forms.render import render_form

__all__ = [
    "AGENCY_NAMES",
    "FORM_OF_EVENT",
    "ApologyForm",
    "ComponentLine",
    "ControlStep",
    "FormCode",
    "FormData",
    "FormDossier",
    "ProcessControlForm",
    "ReceiptForm",
    "RefusalForm",
    "SupplementRequestForm",
    "TrackingBookForm",
    "TrackingRow",
    "agency_name",
    "form_for_event",
    "render_form",
]
