"""Review's subscriptions."""

from __future__ import annotations

from hoso.consumer import EventHandler
from hoso.events import Envelope, EventType
from review.handlers import open_workflow
from review.repository import WorkflowRepository


def event_handlers(repo: WorkflowRepository) -> dict[EventType, EventHandler]:
    async def on_dossier_submitted(event: Envelope) -> None:
        await open_workflow(repo, event)

    return {EventType.DOSSIER_SUBMITTED: on_dossier_submitted}
