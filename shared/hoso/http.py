"""The FastAPI application shell every service shares: request ids, logging context, metrics, problems."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

    app.add_middleware(RequestContext, service=service)
    return app


class RequestContext:
    """Each request's id and correlation id (from its headers, or new), bound to its log lines; its metrics and one
    log line when it is answered; the id sent back in `X-Request-ID`. A plain ASGI middleware (the response passes
    through untouched, not re-streamed as `@app.middleware("http")` would)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        correlation_id = headers.get(CORRELATION_ID_HEADER) or request_id
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["correlation_id"] = correlation_id
        started = time.perf_counter()
        status = 500

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(
            request_id=request_id, correlation_id=correlation_id, trace_id=current_trace_id()
        ):
            try:
                await self.app(scope, receive, answer)
            finally:
                elapsed = time.perf_counter() - started
                route = _route_template(scope)
                method = scope["method"]
                HTTP_REQUESTS.labels(self.service, method, route, str(status)).observe(elapsed)
                if not route.startswith(("/health", "/metrics")):
                    log.info(
                        "http.request", method=method, route=route, status=status, duration_ms=round(elapsed * 1000, 1)
                    )


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    return getattr(route, "path", None) or "unmatched"
