"""`hoso`: the operations command line (tokens, keys, dead letters, event schemas, API documents)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Annotated

import typer

from hoso.settings import ServiceSettings
from hoso.topics import DOSSIER_EVENTS, SERVICES

app = typer.Typer(help="Hoso operations command line.", no_args_is_help=True, add_completion=False)
dlq_app = typer.Typer(help="Dead-letter topics: list and replay.", no_args_is_help=True)
schemas_app = typer.Typer(help="Event JSON Schemas: export and compatibility check.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
docs_app = typer.Typer(help="AsyncAPI and OpenAPI documents under docs/: write and check.", no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")
app.add_typer(docs_app, name="docs")


class CliSettings(ServiceSettings):
    pass


def _settings() -> CliSettings:
    return CliSettings()


@dlq_app.command("list")
def dlq_list(
    service: Annotated[str, typer.Option(help=f"One of {', '.join(SERVICES)}")],
    topic: Annotated[str, typer.Option(help="The original topic")] = DOSSIER_EVENTS,
) -> None:
    """Print the service's dead letters, one JSON object a line."""
    from hoso.dlq import list_dead_letters

    s = _settings()
    for letter in asyncio.run(list_dead_letters(s.kafka_bootstrap_servers, service, s.kafka_topic_prefix + topic)):
        typer.echo(json.dumps(letter.summary(), ensure_ascii=False))


@dlq_app.command("replay")
def dlq_replay(
    service: Annotated[str, typer.Option(help=f"One of {', '.join(SERVICES)}")],
    topic: Annotated[str, typer.Option(help="The original topic")] = DOSSIER_EVENTS,
) -> None:
    """Replay the service's not-yet-replayed dead letters to it (once each)."""
    from hoso.dlq import replay_dead_letters

    s = _settings()
    count = asyncio.run(replay_dead_letters(s.kafka_bootstrap_servers, service, s.kafka_topic_prefix + topic))
    typer.echo(f"replayed {count} dead letter(s) to {service}")


@schemas_app.command("export")
def schemas_export() -> None:
    """Write the JSON Schema of every event type into the shared library."""
    from hoso.events.schemas import export_schemas

    for path in export_schemas():
        typer.echo(str(path))


@schemas_app.command("check")
def schemas_check() -> None:
    """Fail when the event models break consumers of the committed schemas."""
    from hoso.events.schemas import breaking_changes, committed_schemas, current_schemas

    committed, current = committed_schemas(), current_schemas()
    problems = [f"{name}: removed" for name in committed if name not in current]
    for name, old in committed.items():
        if name in current:
            problems.extend(f"{name}: {p}" for p in breaking_changes(old, current[name]))
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{len(committed)} committed schemas, all compatible")


@docs_app.command("write")
def docs_write() -> None:
    """Generate docs/asyncapi.json and docs/openapi/<service>.json from the code."""
    from hoso.apidocs import write

    for path in write():
        typer.echo(str(path))


@docs_app.command("check")
def docs_check() -> None:
    """Fail when a committed API document differs from what the code generates."""
    from hoso.apidocs import stale

    outdated = stale()
    for path in outdated:
        typer.echo(f"{path}: out of date (run `make docs`)", err=True)
    if outdated:
        raise typer.Exit(1)
    typer.echo("API documents are current")


def main() -> None:
    os.environ.setdefault("PYTHONUTF8", "1")
    app(sys.argv[1:])
