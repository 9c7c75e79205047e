"""Review's event handlers."""

from __future__ import annotations

from hoso.events import Envelope
from hoso.events.catalog import DossierSubmitted
from hoso.logs import get_logger
from review.repository import WorkflowRepository

log = get_logger(__name__)

RECEPTION_STATE = "awaiting_reception"


async def open_workflow(repo: WorkflowRepository, event: Envelope) -> None:
    """A submitted dossier enters the reception queue of its competent agency (status 1)."""
    payload = event.payload()
    assert isinstance(payload, DossierSubmitted)
    opened = await repo.open(
        payload.dossier_id,
        event.id,
        {
            "code": payload.dossier_code,
            "agency_code": payload.agency_code,
            "procedure_code": payload.procedure_code,
            "procedure_version": payload.procedure_version,
            "applicant_id": payload.applicant.id,
            "state": RECEPTION_STATE,
            "status_code": int(payload.status_code),
            "opened_at": event.time,
        },
    )
    log.info("review.workflow_opened" if opened else "review.duplicate_ignored", agency=payload.agency_code)
