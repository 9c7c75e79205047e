"""Notify's event handlers."""

from __future__ import annotations

from hoso.events import Envelope
from hoso.logs import get_logger

log = get_logger(__name__)


async def note_event(event: Envelope) -> None:
    """Acknowledge a lifecycle event; delivery rules and channels attach here."""
    log.info("notify.event_received", event_type=event.type.short_name, status_code=event.data.get("status_code"))
