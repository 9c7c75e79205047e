"""Build one service process: runtime wiring plus the FastAPI shell, the same way for every service."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import APIRouter, FastAPI

from hoso.http import create_app
from hoso.runtime import ProcessRole, Runtime
from hoso.settings import ServiceSettings
from hoso.tracing import setup_tracing


def build_service_app(
    settings: ServiceSettings,
    role: ProcessRole,
    *,
    title: str,
    description: str,
    wire: Callable[[Runtime], Sequence[APIRouter]],
) -> FastAPI:
    """`wire` adds indexes, outboxes and consumers to the runtime and returns the service's API routers."""
    setup_tracing(settings.service_name, role.value)
    runtime = Runtime(settings, role)
    routers = wire(runtime)
    app = create_app(
        service=settings.service_name,
        title=title,
        description=description,
        readiness=runtime.readiness,
        routers=routers if role.serves_http_api else (),
        lifespan=runtime.lifespan,
    )
    app.state.runtime = runtime
    return app
