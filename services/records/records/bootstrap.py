"""The one place where records' real adapters are wired."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

from hoso.runtime import ProcessRole, Runtime
from hoso.service import build_service_app
from hoso.topics import DOSSIER_EVENTS
from records.api import records_router, tracking_router
from records.consumers import event_handlers
from records.repository import INDEXES, RecordsRepository
from records.settings import RecordsSettings


def build_app(role: ProcessRole, settings: RecordsSettings | None = None) -> FastAPI:
    settings = settings or RecordsSettings()

    def wire(runtime: Runtime) -> Sequence[APIRouter]:
        repo = RecordsRepository(runtime.db)
        runtime.add_indexes(INDEXES)
        runtime.add_consumer([DOSSIER_EVENTS], event_handlers(repo))
        return [records_router(repo), tracking_router(repo)]

    return build_service_app(
        settings,
        role,
        title="Hoso records",
        description="The dossier's memory: hash-chained timeline, tracking, statistics, forms, archive.",
        wire=wire,
    )
