"""The one place where intake's real adapters are wired."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from fastapi import APIRouter, FastAPI

from hoso.events import EventType
from hoso.logs import get_logger
from hoso.runtime import ProcessRole, Runtime
from hoso.service import build_service_app
from hoso.topics import DOSSIER_EVENTS
from intake.api import (
    IntakeContext,
    dossiers_router,
    drafts_router,
    files_router,
    payments_router,
    procedures_router,
)
from intake.catalog.seed import load_seed
from intake.catalog_store import CATALOG_INDEXES, CatalogStore
from intake.consumers import event_handlers
from intake.drafts import DRAFT_INDEXES, DraftStore
from intake.files import FILE_INDEXES, FileStore
from intake.messages import MessageStore
from intake.repository import INDEXES, DossierRepository
from intake.settings import IntakeSettings

log = get_logger(__name__)


def build_app(role: ProcessRole, settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()

    def wire(runtime: Runtime) -> Sequence[APIRouter]:
        repo = DossierRepository(runtime.store, settings.dossier_codes())
        catalog = CatalogStore(runtime.store)
        runtime.add_indexes([*INDEXES, *CATALOG_INDEXES, *FILE_INDEXES, *DRAFT_INDEXES])
        drafts = DraftStore(runtime.store, retention=timedelta(days=settings.draft_retention_days))
        runtime.add_background(lambda: drafts.sweep_forever(settings.draft_sweep_seconds))
        relay = runtime.add_outbox(
            repo.collection,
            emits=[
                EventType.DOSSIER_SUBMITTED,
                EventType.DOSSIER_SUPPLEMENTED,
                EventType.DOSSIER_WITHDRAWAL_REQUESTED,
                EventType.DOSSIER_FEE_PAID,
            ],
        )
        messages = MessageStore(runtime.store)
        runtime.add_outbox(messages.store, emits=[EventType.DOSSIER_MESSAGE_SENT, EventType.DOSSIER_MESSAGE_READ])
        runtime.add_consumer([DOSSIER_EVENTS], event_handlers(repo))
        if settings.seed_catalog:
            seed = load_seed()  # invalid seed data stops the start-up with the entry and field named

            async def seed_catalog() -> None:
                added = await catalog.seed(seed)
                log.info("catalog.seeded", added=added, versions=len(seed))

            runtime.on_start(seed_catalog)
        ctx = IntakeContext(
            repo=repo,
            catalog=catalog,
            files=FileStore(runtime.store),
            relay=relay,
            settings=settings,
            drafts=drafts,
            messages=messages,
        )
        routers = (procedures_router, files_router, dossiers_router, drafts_router, payments_router)
        return [router(ctx) for router in routers]

    return build_service_app(
        settings,
        role,
        title="Hoso intake",
        description="Applicants' door: procedures, files, dossier submission, supplements, withdrawal, fees.",
        wire=wire,
    )
