"""Review's subscriptions: intake's events open and move workflow instances."""

from __future__ import annotations

from hoso.consumer import EventHandler
from hoso.events import EventType
from review.handlers import Review


def event_handlers(review: Review) -> dict[EventType, EventHandler]:
    return {
        EventType.DOSSIER_SUBMITTED: review.on_submitted,
        EventType.DOSSIER_SUPPLEMENTED: review.on_intake_event,
        EventType.DOSSIER_FEE_PAID: review.on_intake_event,
        EventType.DOSSIER_WITHDRAWAL_REQUESTED: review.on_intake_event,
    }
