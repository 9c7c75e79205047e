"""`python -m <service> api|worker|all`: one process role, served by uvicorn."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from hoso.logs import configure_logging
from hoso.runtime import ProcessRole
from hoso.settings import ServiceSettings


def run_service(
    settings: ServiceSettings, build_app: Callable[[ProcessRole], FastAPI], argv: list[str] | None = None
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {settings.service_name}")
    parser.add_argument("role", choices=[r.value for r in ProcessRole], help="api, worker, or all in one process")
    role = ProcessRole(parser.parse_args(argv).role)
    configure_logging(settings.service_name, settings.log_level)
    port = settings.http_port if role.serves_http_api else settings.worker_http_port
    config = uvicorn.Config(
        build_app(role),
        host=settings.http_host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        timeout_keep_alive=settings.http_keep_alive_seconds,
    )
    uvicorn.Server(config).run()
