"""Notify's subscriptions: every dossier event (to know the dossier; the rules decide which ones notify someone), and
records' erasure of a dossier's personal data (to erase notify's copies)."""

from __future__ import annotations

from hoso.consumer import BatchHandler, EventHandler
from hoso.events import EventType
from hoso.events.catalog import EVENT_MODELS, DossierEventData
from notify.handlers import Notify


def event_handlers(notify: Notify) -> dict[EventType, EventHandler]:
    handled = [t for t, model in EVENT_MODELS.items() if issubclass(model, DossierEventData)]
    return dict.fromkeys([*handled, EventType.DOSSIER_PERSONAL_DATA_ERASED], notify.on_event)


def batch_handler(notify: Notify) -> BatchHandler:
    return notify.on_events
