"""The one place where the portal's collaborators are built and its pages wired."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hoso.health import Readiness
from hoso.http import create_app
from hoso.logs import get_logger
from hoso.mongo import create_client, ping
from hoso.store import Store
from hoso.tracing import setup_tracing
from portal import presenters
from portal.api_client import ApiProblem, PlatformApi, Unauthorised
from portal.applicant.dossiers import dossiers_router
from portal.applicant.drafts import drafts_router
from portal.applicant.inbox import inbox_router
from portal.auth import auth_router
from portal.catalog import CatalogView
from portal.desk.dashboard import dashboard_router
from portal.desk.registration import registration_router
from portal.desk.routes import NotAnOfficer, desk_router
from portal.directory import OfficerDirectory
from portal.i18n import LANGUAGE_COOKIE, Translator, language_of
from portal.oidc import OidcClient
from portal.public.routes import public_router
from portal.sessions import SessionStore
from portal.settings import PortalSettings
from portal.web import TEMPLATES, CsrfRefused, Portal, SignInRequired, login_url, set_session_cookie

log = get_logger(__name__)
STATIC = Path(__file__).parent / "static"


def build_app(settings: PortalSettings | None = None) -> FastAPI:
    settings = settings or PortalSettings()
    setup_tracing("portal", "api")
    mongo = create_client(settings.mongodb_url, app_name="hoso-portal", max_pool_size=settings.mongodb_max_pool_size)
    db = mongo[settings.database_name]
    sessions = SessionStore(
        Store(db),
        idle=timedelta(minutes=settings.session_idle_minutes),
        max_age=timedelta(hours=settings.session_max_hours),
    )
    api_http = httpx.AsyncClient(
        base_url=settings.api_url, timeout=settings.api_timeout_seconds, limits=httpx.Limits(max_connections=100)
    )
    idp_http = httpx.AsyncClient(timeout=10)
    api = PlatformApi(api_http, upload_timeout=settings.upload_timeout_seconds)
    oidc = OidcClient(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.client_secret,
        redirect_uri=f"{settings.public_url.rstrip('/')}/auth/callback",
        scope=settings.oidc_scope,
        audience=settings.jwt_audience,
        http=idp_http,
        metadata_url=settings.oidc_metadata_url,
    )
    # Templates are part of the release: compiled once, never looked up on disk again (no stat per render).
    templates = Jinja2Templates(
        env=jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, auto_reload=False)
    )
    templates.env.globals["static"] = lambda name: f"/static/{name}"
    presenters.install(templates.env)
    portal = Portal(
        settings=settings,
        sessions=sessions,
        oidc=oidc,
        api=api,
        templates=templates,
        catalog=CatalogView(api),
        calendar=settings.calendar,
        calendar_zone=ZoneInfo(settings.timezone),
        directory=OfficerDirectory(
            issuer=settings.oidc_issuer,
            metadata_url=settings.oidc_metadata_url,
            client_id=settings.oidc_client_id,
            client_secret=settings.client_secret,
            service_client_id=settings.directory_client_id,
            http=idp_http,
            ttl=settings.directory_ttl_seconds,
        ),
    )

    readiness = Readiness()
    readiness.add_check("mongodb", lambda: ping(mongo))
    readiness.add_check("gateway", lambda: _answers(api_http, "/api/v1/procedures"))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_sweep_sessions(sessions))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await api_http.aclose()
            await idp_http.aclose()
            await mongo.close()

    app = create_app(service="portal", title="Hoso portal", readiness=readiness, lifespan=lifespan)
    app.state.portal = portal
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for router in (
        public_router(),
        auth_router(),
        dossiers_router(),
        drafts_router(),
        inbox_router(),
        desk_router(),
        registration_router(),
        dashboard_router(),
    ):
        app.include_router(router, include_in_schema=False)
    _install_page_errors(app)
    _install_security_headers(app, settings)
    return app


async def _answers(http: httpx.AsyncClient, path: str) -> None:
    (await http.get(path, timeout=2)).raise_for_status()


async def _sweep_sessions(sessions: SessionStore, interval: float = 300.0) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await sessions.sweep()
        except Exception as exc:  # tried again at the next interval
            log.warning("portal.session_sweep_failed", error=str(exc))


def _error_page(request: Request, status: int, message_key: str) -> HTMLResponse:
    portal: Portal = request.app.state.portal
    t = Translator(language_of(request.cookies.get(LANGUAGE_COOKIE)))
    context = {"t": t, "lang": t.language, "user": None, "csrf_token": "", "current_path": request.url.path}
    context["message"] = t(message_key)
    context["errors"] = None
    return portal.templates.TemplateResponse(request, "error.html", context, status_code=status)


def _install_page_errors(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        target = login_url(exc.next_path)
        answer: Response
        if request.headers.get("HX-Request"):
            answer = Response(status_code=204, headers={"HX-Redirect": target})
        else:
            answer = RedirectResponse(target, status_code=303)
        if exc.session_token is not None:
            set_session_cookie(answer, exc.session_token, request.app.state.portal.settings)
        return answer

    @app.exception_handler(Unauthorised)
    async def unauthorised(request: Request, _: Unauthorised) -> Response:
        return await sign_in(request, SignInRequired(request.url.path))

    @app.exception_handler(NotAnOfficer)
    async def not_an_officer(request: Request, _: NotAnOfficer) -> Response:
        return _error_page(request, 403, "desk.not_officer")

    @app.exception_handler(CsrfRefused)
    async def csrf(request: Request, _: CsrfRefused) -> Response:
        return _error_page(request, 403, "error.csrf")

    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, exc: ApiProblem) -> Response:
        log.warning("portal.api_problem", status=exc.status, title=exc.title, detail=exc.detail[:300])
        return _error_page(request, 503 if exc.status >= 500 else exc.status, "error.api")

    @app.exception_handler(httpx.TransportError)
    async def unreachable(request: Request, exc: httpx.TransportError) -> Response:
        log.warning("portal.api_unreachable", error=str(exc))
        return _error_page(request, 503, "error.unavailable")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(("/health", "/metrics", "/static")):
            return Response(status_code=exc.status_code)
        return _error_page(request, exc.status_code, "error.not_found" if exc.status_code == 404 else "error.api")


def _install_security_headers(app: FastAPI, settings: PortalSettings) -> None:
    idp = urlsplit(settings.oidc_issuer)
    idp_origin = f"{idp.scheme}://{idp.netloc}"
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            # Signing in and out continue at the identity provider after a form is sent.
            f"form-action 'self' {idp_origin}",
        ]
    )

    app.add_middleware(SecurityHeaders, policy=policy)


class SecurityHeaders:
    """The Content-Security-Policy and the other security headers on every answer (a plain ASGI middleware)."""

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, answer)
