"""The one place where review's real adapters are wired."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

from hoso.runtime import ProcessRole, Runtime
from hoso.service import build_service_app
from hoso.topics import DOSSIER_EVENTS
from review.api import review_router
from review.consumers import event_handlers
from review.repository import INDEXES, WorkflowRepository
from review.settings import ReviewSettings


def build_app(role: ProcessRole, settings: ReviewSettings | None = None) -> FastAPI:
    settings = settings or ReviewSettings()

    def wire(runtime: Runtime) -> Sequence[APIRouter]:
        repo = WorkflowRepository(runtime.db)
        runtime.add_indexes(INDEXES)
        runtime.add_outbox(repo.collection)
        runtime.add_consumer([DOSSIER_EVENTS], event_handlers(repo))
        return [review_router(repo)]

    return build_service_app(
        settings,
        role,
        title="Hoso review",
        description="Officers' side: workflow instances, deadlines, actions, task queues.",
        wire=wire,
    )
