"""The FastAPI application shell every service shares: request ids, logging context, metrics, problems."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from hoso.health import Readiness, health_router
from hoso.logs import get_logger
from hoso.metrics import HTTP_REQUESTS
from hoso.problems import install_problem_handlers
from hoso.tracing import current_trace_id

log = get_logger("hoso.http")

REQUEST_ID_HEADER = "X-Request-ID"
CORRELATION_ID_HEADER = "X-Correlation-ID"


def create_app(
    *,
    service: str,
    title: str,
    readiness: Readiness,
    routers: Sequence[APIRouter] = (),
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    description: str = "",
) -> FastAPI:
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        # Behind the gateway at /api/v1/docs/<service>: the API reference page and its OpenAPI document.
        openapi_url=f"/api/v1/docs/{service}/openapi.json" if routers else None,
        docs_url=f"/api/v1/docs/{service}" if routers else None,
        redoc_url=None,
    )
    install_problem_handlers(app)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="/health/.*,/metrics", exclude_spans=["receive", "send"])
    app.include_router(health_router(readiness))
    for router in routers:
        app.include_router(router)

    @app.middleware("http")
    async def request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        correlation_id = request.headers.get(CORRELATION_ID_HEADER) or request_id
        request.state.request_id = request_id
        request.state.correlation_id = correlation_id
        started = time.perf_counter()
        status = 500
        with structlog.contextvars.bound_contextvars(
            request_id=request_id, correlation_id=correlation_id, trace_id=current_trace_id()
        ):
            try:
                response = await call_next(request)
                status = response.status_code
            finally:
                elapsed = time.perf_counter() - started
                route = _route_template(request)
                HTTP_REQUESTS.labels(service, request.method, route, str(status)).observe(elapsed)
                if not route.startswith(("/health", "/metrics")):
                    log.info(
                        "http.request",
                        method=request.method,
                        route=route,
                        status=status,
                        duration_ms=round(elapsed * 1000, 1),
                    )
        response.headers[REQUEST_ID_HEADER] = request_id
        return response

    return app


def _route_template(request: Request) -> str:
    route: Any = request.scope.get("route")
    return getattr(route, "path", None) or "unmatched"
