"""Records' subscriptions: every dossier event goes to the timeline."""

from __future__ import annotations

from hoso.consumer import EventHandler
from hoso.events import Envelope, EventType
from hoso.events.catalog import EVENT_MODELS, DossierEventData
from records.handlers import record_event
from records.repository import RecordsRepository

DOSSIER_EVENT_TYPES = tuple(t for t, model in EVENT_MODELS.items() if issubclass(model, DossierEventData))


def event_handlers(repo: RecordsRepository) -> dict[EventType, EventHandler]:
    async def on_dossier_event(event: Envelope) -> None:
        await record_event(repo, event)

    return dict.fromkeys(DOSSIER_EVENT_TYPES, on_dossier_event)
