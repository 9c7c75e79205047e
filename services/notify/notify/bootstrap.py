"""The one place where notify's real adapters are wired."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

from hoso.runtime import ProcessRole, Runtime
from hoso.service import build_service_app
from hoso.topics import DOSSIER_EVENTS, NOTIFICATION_EVENTS
from notify.consumers import event_handlers
from notify.settings import NotifySettings


def build_app(role: ProcessRole, settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()

    def wire(runtime: Runtime) -> Sequence[APIRouter]:
        runtime.topics.append(runtime.topic(NOTIFICATION_EVENTS))
        runtime.add_consumer([DOSSIER_EVENTS], event_handlers())
        return []

    return build_service_app(
        settings,
        role,
        title="Hoso notify",
        description="Applicants and officers hear about every step: e-mail, SMS, in-app inbox.",
        wire=wire,
    )
