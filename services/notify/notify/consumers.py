"""Notify's subscriptions."""

from __future__ import annotations

from hoso.consumer import EventHandler
from hoso.events import EventType
from hoso.events.catalog import EVENT_MODELS, DossierEventData
from notify.handlers import note_event


def event_handlers() -> dict[EventType, EventHandler]:
    return {t: note_event for t, model in EVENT_MODELS.items() if issubclass(model, DossierEventData)}
