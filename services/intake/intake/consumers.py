"""Intake's subscriptions: review's lifecycle events keep intake's view of each dossier's status."""

from __future__ import annotations

from hoso.consumer import EventHandler
from hoso.events import Envelope, EventType
from intake.handlers import record_status_change
from intake.repository import DossierRepository

# Events that change the public status of a dossier after submission.
STATUS_EVENTS = (
    EventType.DOSSIER_RECEIVED,
    EventType.DOSSIER_REFUSED,
    EventType.DOSSIER_SUPPLEMENT_REQUESTED,
    EventType.DOSSIER_FEE_REQUESTED,
    EventType.DOSSIER_PROCESSING_RESUMED,
    EventType.DOSSIER_APPROVED,
    EventType.DOSSIER_REJECTED,
    EventType.DOSSIER_RESULT_RETURNED,
    EventType.DOSSIER_STOPPED,
    EventType.DOSSIER_WITHDRAWAL_REQUESTED,
)


def event_handlers(repo: DossierRepository) -> dict[EventType, EventHandler]:
    async def on_status_event(event: Envelope) -> None:
        await record_status_change(repo, event)

    return dict.fromkeys(STATUS_EVENTS, on_status_event)
