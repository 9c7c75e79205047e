"""Records' subscriptions: every dossier and notification event goes to the timeline; an ending opens the archive."""

from __future__ import annotations

from hoso.consumer import EventHandler
from hoso.events import Envelope, EventType
from hoso.events.catalog import EVENT_MODELS, DossierEventData
from records.archive import Archiver
from records.handlers import record_event
from records.repository import RecordsRepository

DOSSIER_EVENT_TYPES = tuple(t for t, model in EVENT_MODELS.items() if issubclass(model, DossierEventData))
NOTIFICATION_EVENT_TYPES = (EventType.NOTIFICATION_DELIVERED, EventType.NOTIFICATION_FAILED)


def event_handlers(repo: RecordsRepository, archiver: Archiver) -> dict[EventType, EventHandler]:
    async def on_event(event: Envelope) -> None:
        ended = await record_event(repo, event)
        if ended is not None:
            await archiver.on_ended(ended, event.id)

    return dict.fromkeys((*DOSSIER_EVENT_TYPES, *NOTIFICATION_EVENT_TYPES), on_event)
