"""The one place where review's real adapters are wired."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

from hoso.runtime import ProcessRole, Runtime
from hoso.service import build_service_app
from hoso.topics import DOSSIER_EVENTS
from review.api import review_router
from review.consumers import event_handlers
from review.domain.definition import load_definitions
from review.domain.engine import EMITS
from review.handlers import Review
from review.repository import INDEXES, ReviewRepository
from review.settings import ReviewSettings


def build_app(role: ProcessRole, settings: ReviewSettings | None = None) -> FastAPI:
    settings = settings or ReviewSettings()
    # A definition with a problem stops the service at start-up, naming the problem.
    definitions = load_definitions()

    def wire(runtime: Runtime) -> Sequence[APIRouter]:
        repo = ReviewRepository(runtime.store, full_read_seconds=settings.queue_full_read_seconds)
        runtime.add_indexes(INDEXES)
        review = Review(repo, definitions, settings)
        runtime.add_outbox(repo.store, emits=EMITS)
        runtime.on_start(lambda: repo.save_definitions(definitions))
        runtime.add_consumer([DOSSIER_EVENTS], event_handlers(review))
        if role.consumes:
            runtime.add_background(review.run_timers)
        return [review_router(review)]

    return build_service_app(
        settings,
        role,
        title="Hoso review",
        description="Officers' side: workflow definitions and instances, legal deadlines, actions, task queues.",
        wire=wire,
    )
