"""Records' subscriptions: every dossier and notification event goes to the timeline; an ending opens the archive."""

from __future__ import annotations

from collections.abc import Sequence

from hoso.consumer import BatchHandler, EventHandler
from hoso.events import Envelope, EventType
from hoso.events.catalog import EVENT_MODELS, DossierEventData
from records.archive import Archiver
from records.handlers import record_event, record_events
from records.repository import RecordsRepository

DOSSIER_EVENT_TYPES = tuple(t for t, model in EVENT_MODELS.items() if issubclass(model, DossierEventData))
NOTIFICATION_EVENT_TYPES = (EventType.NOTIFICATION_DELIVERED, EventType.NOTIFICATION_FAILED)
MESSAGE_EVENT_TYPES = (EventType.DOSSIER_MESSAGE_SENT, EventType.DOSSIER_MESSAGE_READ)
PRIVACY_EVENT_TYPES = (EventType.DOSSIER_PERSONAL_DATA_ERASED,)


def event_handlers(repo: RecordsRepository, archiver: Archiver) -> dict[EventType, EventHandler]:
    async def on_event(event: Envelope) -> None:
        ended = await record_event(repo, event)
        if ended is not None:
            await archiver.on_ended(ended, event.id)

    types = (*DOSSIER_EVENT_TYPES, *MESSAGE_EVENT_TYPES, *PRIVACY_EVENT_TYPES, *NOTIFICATION_EVENT_TYPES)
    return dict.fromkeys(types, on_event)


def batch_handler(repo: RecordsRepository, archiver: Archiver) -> BatchHandler:
    async def on_events(events: Sequence[Envelope]) -> None:
        for summary, event_id in await record_events(repo, events):
            await archiver.on_ended(summary, event_id)

    return on_events
