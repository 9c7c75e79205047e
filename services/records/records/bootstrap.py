"""The one place where records' real adapters are wired."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

from hoso.events import EventType
from hoso.runtime import ProcessRole, Runtime
from hoso.service import build_service_app
from hoso.topics import DOSSIER_EVENTS, NOTIFICATION_EVENTS
from records.api import performance_router, records_router, tracking_router
from records.archive import ArchivePolicy, Archiver, DropFolderExporter, Exporter, HttpExporter
from records.consumers import batch_handler, event_handlers
from records.gauges import watch_dossiers
from records.repository import INDEXES, RecordsRepository
from records.settings import RecordsSettings


def exporter_of(settings: RecordsSettings) -> Exporter:
    if settings.archive_exporter == "http":
        if not settings.archive_url:
            raise ValueError("RECORDS_ARCHIVE_EXPORTER=http needs RECORDS_ARCHIVE_URL")
        token = settings.archive_token.get_secret_value() if settings.archive_token else None
        return HttpExporter(settings.archive_url, token)
    return DropFolderExporter(settings.archive_folder or settings.state_path / "archive-out")


def build_app(role: ProcessRole, settings: RecordsSettings | None = None) -> FastAPI:
    settings = settings or RecordsSettings()

    def wire(runtime: Runtime) -> Sequence[APIRouter]:
        repo = RecordsRepository(runtime.store)
        runtime.add_indexes(INDEXES)
        policy = ArchivePolicy(
            base_seconds=settings.archive_retry_base_seconds,
            max_seconds=settings.archive_retry_max_seconds,
            lease_seconds=settings.archive_lease_seconds,
        )
        archiver = Archiver(repo, exporter_of(settings), policy, settings.archive_interval_seconds)
        runtime.add_outbox(repo.archives, emits=[EventType.DOSSIER_ARCHIVED])
        personal_relay = runtime.add_outbox(repo.personal, emits=[EventType.DOSSIER_PERSONAL_DATA_ERASED])
        runtime.add_consumer(
            [DOSSIER_EVENTS, NOTIFICATION_EVENTS], event_handlers(repo, archiver), batch_handler(repo, archiver)
        )
        if role.consumes:
            runtime.add_background(archiver.run)
            runtime.add_background(lambda: watch_dossiers(repo, settings.gauges_interval_seconds))
        return [
            records_router(repo, settings, personal_relay),
            performance_router(repo, settings),
            tracking_router(repo),
        ]

    return build_service_app(
        settings,
        role,
        title="Hoso records",
        description="The dossier's memory: hash-chained timeline, tracking, statistics, forms, archive.",
        wire=wire,
    )
