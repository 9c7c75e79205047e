"""Liveness, readiness and metrics endpoints; readiness reflects MongoDB, Kafka and stuck consumers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

Check = Callable[[], Awaitable[None]]


class Readiness:
    """Named checks run on each /health/ready call, plus degradations reported by background loops."""

    def __init__(self, timeout: float = 2.0) -> None:
        self._checks: dict[str, Check] = {}
        self._degraded: dict[str, str] = {}
        self._timeout = timeout

    def add_check(self, name: str, check: Check) -> None:
        self._checks[name] = check

    def degrade(self, component: str, reason: str) -> None:
        self._degraded[component] = reason

    def recover(self, component: str) -> None:
        self._degraded.pop(component, None)

    async def report(self) -> tuple[bool, dict[str, str]]:
        results: dict[str, str] = {}
        for name, check in self._checks.items():
            try:
                await asyncio.wait_for(check(), self._timeout)
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"failing: {type(exc).__name__}: {exc}"[:300]
        for component, reason in self._degraded.items():
            results[component] = f"degraded: {reason}"[:300]
        return all(v == "ok" for v in results.values()), results


def health_router(readiness: Readiness) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready")
    async def ready() -> JSONResponse:
        ok, checks = await readiness.report()
        return JSONResponse({"status": "ok" if ok else "not-ready", "checks": checks}, status_code=200 if ok else 503)

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
