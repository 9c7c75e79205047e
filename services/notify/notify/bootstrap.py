"""The one place where notify's real adapters are wired."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml
from fastapi import APIRouter, FastAPI

from hoso.events import EventType
from hoso.mongo import Document
from hoso.runtime import ProcessRole, Runtime
from hoso.service import build_service_app
from hoso.topics import DOSSIER_EVENTS
from notify.api import notify_router
from notify.channels.email import EmailChannel
from notify.channels.sms import SmsChannel
from notify.consumers import batch_handler, event_handlers
from notify.domain.catalog import load_catalog
from notify.handlers import Notify
from notify.repository import INDEXES, NotifyRepository
from notify.settings import NotifySettings


def read_directory(path: Path) -> list[Document]:
    """The officers of the directory file, keyed as notify stores them."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    officers: list[Document] = []
    for entry in raw.get("officers", []):
        officer = {k: v for k, v in entry.items() if k not in {"id", "agency"}}
        officer.update(_id=str(entry["id"]), agency_code=entry.get("agency"), roles=list(entry.get("roles", [])))
        officers.append(officer)
    return officers


def build_app(role: ProcessRole, settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    # A rule without its template, or a template reading a field its event lacks, stops the service here.
    catalog = load_catalog(settings.rules_file, settings.templates_dir)
    officers = read_directory(settings.directory_file)

    def wire(runtime: Runtime) -> Sequence[APIRouter]:
        repo = NotifyRepository(runtime.store)
        runtime.add_indexes(INDEXES)
        sms = SmsChannel(settings.sms) if settings.sms is not None else None
        notify = Notify(repo, catalog, settings, EmailChannel(settings.smtp_relay), sms)
        runtime.add_outbox(repo.store, emits=[EventType.NOTIFICATION_DELIVERED, EventType.NOTIFICATION_FAILED])
        runtime.on_start(lambda: repo.load_directory(officers))
        runtime.add_consumer([DOSSIER_EVENTS], event_handlers(notify), batch_handler(notify))
        if role.consumes:
            runtime.add_background(notify.run_sender)
        return [notify_router(notify)]

    return build_service_app(
        settings,
        role,
        title="Hoso notify",
        description="Applicants and officers hear about every step: e-mail with the forms, SMS, in-app inbox.",
        wire=wire,
    )
