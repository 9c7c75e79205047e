"""The platform's API documents, generated from the code: AsyncAPI for the event catalog (FastStream), OpenAPI for
each service's HTTP API (FastAPI). `hoso docs write` puts them under docs/; `hoso docs check` fails when they are stale.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from faststream.specification.asyncapi import AsyncAPI

from hoso.runtime import ProcessRole, Runtime
from hoso.topics import SERVICES

DOCS = Path(__file__).resolve().parents[2] / "docs"
# Where the documents say the brokers are (the name compose gives Kafka), whatever this machine's settings say.
DOCUMENTED_KAFKA = "kafka:9092"


def wired(service: str, role: ProcessRole = ProcessRole.ALL) -> Runtime:
    """A service's runtime as its bootstrap wires it for `role`, without connecting to anything.

    Topics, consumer groups and the prefix are the documented ones, not this machine's environment's.
    """
    bootstrap = importlib.import_module(f"{service}.bootstrap")
    settings_class = getattr(importlib.import_module(f"{service}.settings"), f"{service.capitalize()}Settings")
    settings = settings_class(kafka_bootstrap_servers=DOCUMENTED_KAFKA, kafka_topic_prefix="", consumer_group="")
    runtime: Runtime = bootstrap.build_app(role, settings).state.runtime
    return runtime


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0 of the services' own publishers (every event type each one's outboxes emit, with its payload
    schema) and subscribers (each consumer group, its topics and the types it applies), as the services wire them."""
    brokers = [wired(service).broker for service in SERVICES]
    spec = AsyncAPI(
        *brokers,
        title="Hoso events",
        version="1.0.0",
        description="The event catalog of the Hoso platform: dossier lifecycle and notification outcomes.",
    ).to_specification()
    document: dict[str, Any] = json.loads(spec.to_json())
    return document


def openapi_document(service: str) -> dict[str, Any]:
    """The OpenAPI document of one service's HTTP API (built without connecting to anything)."""
    bootstrap = importlib.import_module(f"{service}.bootstrap")
    app = bootstrap.build_app(ProcessRole.API)
    document: dict[str, Any] = app.openapi()
    return document


def documents() -> dict[Path, bytes]:
    found = {DOCS / "asyncapi.json": asyncapi_document()}
    found.update({DOCS / "openapi" / f"{service}.json": openapi_document(service) for service in SERVICES})
    return {
        path: (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
        for path, doc in found.items()
    }


def write() -> list[Path]:
    written = []
    for path, content in documents().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written


def stale() -> list[Path]:
    return [path for path, content in documents().items() if not path.exists() or path.read_bytes() != content]
