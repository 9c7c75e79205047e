"""The one place where intake's real adapters are wired."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

from hoso.runtime import ProcessRole, Runtime
from hoso.service import build_service_app
from hoso.topics import DOSSIER_EVENTS
from intake.api import dossier_router
from intake.consumers import event_handlers
from intake.repository import INDEXES, DossierRepository
from intake.settings import IntakeSettings


def build_app(role: ProcessRole, settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()

    def wire(runtime: Runtime) -> Sequence[APIRouter]:
        repo = DossierRepository(runtime.db)
        runtime.add_indexes(INDEXES)
        relay = runtime.add_outbox(repo.collection)
        runtime.add_consumer([DOSSIER_EVENTS], event_handlers(repo))
        return [dossier_router(repo, relay, timezone=settings.timezone)]

    return build_service_app(
        settings,
        role,
        title="Hoso intake",
        description="Applicants' door: procedures, dossier submission, supplements, withdrawal, files.",
        wire=wire,
    )
