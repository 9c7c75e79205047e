"""`hoso`: the operations command line (tokens, keys, dead letters, event schemas, API documents)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Annotated

import httpx
import typer

from hoso.auth import DEV_ISSUER, Role
from hoso.devkeys import DEMO_PASSWORD, ensure_dev_keys, mint_token, password_token
from hoso.pins import local_seal_key
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


@app.command()
def token(
    role: Annotated[list[Role], typer.Option("--role", help="Role claim; repeat for several")],
    sub: Annotated[str, typer.Option("--sub", help="Subject (user id)")],
    agency: Annotated[str | None, typer.Option("--agency", help="Agency code (officers)")] = None,
    name: Annotated[str, typer.Option(help="Display name")] = "",
    email: Annotated[str | None, typer.Option(help="E-mail claim")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone claim")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 8 * 3600,
) -> None:
    """Print a token signed with the local development key (local mode only)."""
    s = _settings()
    if not s.local_mode:
        typer.echo(
            "hoso token works only in local mode (HOSO_LOCAL_MODE=1): production tokens come from the IdP.",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(
        mint_token(
            s.state_path,
            subject=sub,
            roles=role,
            agency=agency,
            issuer=DEV_ISSUER,
            audience=s.jwt_audience,
            name=name,
            email=email,
            phone=phone,
            ttl_seconds=ttl,
        )
    )


@app.command()
def login(
    username: Annotated[str, typer.Argument(help="A local account, e.g. tiepnhan.bnnmt")],
    password: Annotated[str, typer.Option(help="Its password (the demo accounts': hoso-demo)")] = DEMO_PASSWORD,
    issuer: Annotated[
        str, typer.Option(envvar="HOSO_OIDC_ISSUER", help="The realm's issuer URL")
    ] = "http://127.0.0.1:8180/realms/hoso",
) -> None:
    """Print an access token from the identity provider (Keycloak) for a local account, for scripts."""
    try:
        typer.echo(password_token(issuer, username, password))
    except (RuntimeError, httpx.HTTPError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


@app.command()
def keys() -> None:
    """Create the local development signing key, its JWKS and the PIN seal key if missing (local mode only)."""
    s = _settings()
    if not s.local_mode:
        typer.echo("hoso keys works only in local mode (HOSO_LOCAL_MODE=1)", err=True)
        raise typer.Exit(2)
    local_seal_key(s.state_path)
    typer.echo(str(ensure_dev_keys(s.state_path)))


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


@app.command()
def demo(
    gateway: Annotated[str, typer.Option(help="The gateway's address")] = "http://127.0.0.1:8080",
    agency: Annotated[str, typer.Option(help="The agency whose desk handles the dossier (BNNMT or UBND.HN)")] = "BNNMT",
    issuer: Annotated[
        str, typer.Option(envvar="HOSO_OIDC_ISSUER", help="The realm's issuer URL, where the demo accounts sign in")
    ] = "http://127.0.0.1:8180/realms/hoso",
    dev_key: Annotated[
        bool, typer.Option("--dev-key", help="Sign the people's tokens with the development key (local mode only)")
    ] = False,
) -> None:
    """Walk one EIA dossier through the gateway, from submission to the returned result: the demo company and the
    agency's demo officers sign in at Keycloak, so the dossier is then in the company's list on the portal."""
    from hoso.walkthrough import DEMO_DESKS, Walkthrough, WalkthroughFailed

    settings = _settings()
    if agency not in DEMO_DESKS:
        typer.echo(f"no demo desk for {agency}: one of {', '.join(DEMO_DESKS)}", err=True)
        raise typer.Exit(2)
    if dev_key and not settings.local_mode:
        typer.echo("--dev-key signs tokens with the development key: set HOSO_LOCAL_MODE=1", err=True)
        raise typer.Exit(2)
    walk = Walkthrough(gateway, settings.state_path, agency=agency, issuer=DEV_ISSUER,
                       audience=settings.jwt_audience, dev_key=dev_key)  # fmt: skip
    try:
        if not dev_key:
            try:
                walk.sign_in_at(issuer, applicant="congty.demo")
                walk.sign_in_desk(issuer)
            except (RuntimeError, httpx.HTTPError) as exc:
                typer.echo(f"demo failed: cannot sign in at {issuer} ({exc}); is Keycloak up (`make up`)?", err=True)
                raise typer.Exit(1) from exc
        code, pin = walk.eia_to_result()
    except (WalkthroughFailed, httpx.HTTPError, OSError) as exc:
        typer.echo(f"demo failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        walk.close()
    typer.echo(f"\nDone: {code} went from submission to the returned result.")
    typer.echo(f"Track it: {gateway}/api/v1/tracking/{code}?pin={pin}")
    if not dev_key:
        typer.echo(f"See it on the portal: {gateway}/ho-so/{code} (sign in as congty.demo, password hoso-demo)")


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
