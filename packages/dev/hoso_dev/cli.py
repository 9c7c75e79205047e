"""Hoso's development command line (`hoso-dev`): tokens for scripts, the local development keys, the demo."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import httpx
import typer

from hoso.auth import DEV_ISSUER, Role
from hoso.pins import local_seal_key
from hoso.settings import ServiceSettings
from hoso_dev.keys import DEMO_PASSWORD, ensure_dev_keys, mint_token, password_token

app = typer.Typer(help="Hoso development command line.", no_args_is_help=True, add_completion=False)


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
    title: Annotated[str, typer.Option(help="An officer's position, as the forms they sign print it")] = "",
    email: Annotated[str | None, typer.Option(help="E-mail claim")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone claim")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 8 * 3600,
) -> None:
    """Print a token signed with the local development key (local mode only)."""
    s = _settings()
    if not s.local_mode:
        typer.echo(
            "hoso-dev token works only in local mode (HOSO_LOCAL_MODE=1): production tokens come from the IdP.",
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
            title=title,
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
        typer.echo("hoso-dev keys works only in local mode (HOSO_LOCAL_MODE=1)", err=True)
        raise typer.Exit(2)
    local_seal_key(s.state_path)
    typer.echo(str(ensure_dev_keys(s.state_path)))


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
    from hoso_dev.walkthrough import DEMO_DESKS, Walkthrough, WalkthroughFailed

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


def main() -> None:
    os.environ.setdefault("PYTHONUTF8", "1")
    app(sys.argv[1:])
