"""Intake's subscriptions: review's lifecycle events keep intake's view of each dossier; records' erasure of a
dossier's personal data erases intake's copy."""

from __future__ import annotations

from hoso.consumer import EventHandler
from hoso.events import Envelope, EventType
from intake.handlers import erase_personal_data, record_review_event
from intake.repository import DossierRepository

# Review's events that change what an applicant sees of a dossier (intake's own events are applied at the source).
REVIEW_EVENTS = (
    EventType.DOSSIER_RECEIVED,
    EventType.DOSSIER_REFUSED,
    EventType.DOSSIER_ASSIGNED,
    EventType.DOSSIER_SUPPLEMENT_REQUESTED,
    EventType.DOSSIER_FEE_REQUESTED,
    EventType.DOSSIER_APPRAISAL_RECORDED,
    EventType.DOSSIER_PROCESSING_RESUMED,
    EventType.DOSSIER_DECISION_PROPOSED,
    EventType.DOSSIER_APPROVED,
    EventType.DOSSIER_REJECTED,
    EventType.DOSSIER_RESULT_RETURNED,
    EventType.DOSSIER_STOPPED,
    EventType.DOSSIER_DEADLINE_EXTENDED,
    EventType.DOSSIER_WITHDRAWAL_ACCEPTED,
)


def event_handlers(repo: DossierRepository) -> dict[EventType, EventHandler]:
    async def on_review_event(event: Envelope) -> None:
        await record_review_event(repo, event)

    async def on_erasure(event: Envelope) -> None:
        await erase_personal_data(repo, event)

    return {**dict.fromkeys(REVIEW_EVENTS, on_review_event), EventType.DOSSIER_PERSONAL_DATA_ERASED: on_erasure}
