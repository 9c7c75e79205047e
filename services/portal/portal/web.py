"""What every page shares: the session from its cookie, the language, CSRF, sign-in on demand, rendering.

A page handler takes a `Page` (the request with its session and words), calls the API through `api_client`, and
renders a template with `page.render(...)`. POSTs check the form's CSRF token against the session's. A person whose
session ended mid-form is sent to sign in and brought back to the same page with what they had typed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, UploadFile

from hoso.deadlines import WorkCalendar
from hoso.mongo import bson_now
from portal.api_client import ApiProblem, FieldError, PlatformApi
from portal.catalog import CatalogView
from portal.directory import OfficerDirectory
from portal.i18n import LANGUAGE_COOKIE, Translator, language_of
from portal.oidc import OidcClient, SignInFailed
from portal.problems import readable
from portal.sessions import COOKIE, PendingForm, Session, SessionStore, TypedValue
from portal.settings import PortalSettings

TEMPLATES = Path(__file__).parent / "templates"
CSRF_FIELD = "csrf_token"


@dataclass
class Portal:
    """The portal's collaborators, built once in bootstrap."""

    settings: PortalSettings
    sessions: SessionStore
    oidc: OidcClient
    api: PlatformApi
    templates: Jinja2Templates
    catalog: CatalogView
    calendar: WorkCalendar
    calendar_zone: ZoneInfo
    directory: OfficerDirectory


class SignInRequired(Exception):
    """Sign in first, then come back to `next_path`; `session_token` is a session made on the way (holding what the
    person had typed), which the answer must give the browser."""

    def __init__(self, next_path: str, session_token: str | None = None) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.session_token = session_token


class CsrfRefused(Exception):
    pass


@dataclass
class FormErrors:
    """Messages for the error summary and beside each field, from the API's problem+json or the portal's checks."""

    by_field: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)

    def add(self, field_name: str, message: str) -> None:
        self.by_field.setdefault(field_name, message)


def safe_next(value: str | None) -> str:
    """A path on this site to return to; anything else (another host, a scheme) becomes the home page."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def set_session_cookie(response: Response, token: str, settings: PortalSettings) -> None:
    """The opaque session cookie: HttpOnly, SameSite=Lax (the provider's redirect back is a top-level GET)."""
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
        max_age=settings.session_max_hours * 3600,
    )


class Page:
    def __init__(self, request: Request, portal: Portal, session: Session | None) -> None:
        self.request = request
        self.portal = portal
        self.session = session
        self.t = Translator(language_of(request.cookies.get(LANGUAGE_COOKIE)))
        self._new_session = False

    @property
    def user(self) -> Any:
        return self.session.user if self.session is not None and self.session.signed_in else None

    @property
    def path(self) -> str:
        query = self.request.url.query
        return self.request.url.path + (f"?{query}" if query else "")

    async def ensure_session(self) -> Session:
        if self.session is None:
            self.session = self.portal.sessions.new()
            self._new_session = True
            await self.portal.sessions.save(self.session)
        return self.session

    def set_cookie(self, response: Response) -> None:
        if self.session is not None and self._new_session:
            set_session_cookie(response, self.session.token, self.portal.settings)

    async def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        session = await self.ensure_session()
        body = {
            "page": self,
            "t": self.t,
            "lang": self.t.language,
            "user": self.user,
            "csrf_token": session.csrf,
            "current_path": self.path,
            "errors": context.pop("errors", None) or FormErrors(),
            **context,
        }
        response = self.portal.templates.TemplateResponse(self.request, template, body, status_code=status_code)
        self.set_cookie(response)
        if self.user is not None:
            response.headers["Cache-Control"] = "no-store"
        return response

    def redirect(self, to: str, status_code: int = 303) -> RedirectResponse:
        response = RedirectResponse(to, status_code=status_code)
        self.set_cookie(response)
        return response

    # --- forms ----------------------------------------------------------------------------------------------------

    async def form(self) -> FormData:
        """The POSTed form, its CSRF token checked; with no session (it ended), sign in first, keeping the text."""
        # Files are spooled to disk as they arrive; a text field may have at most Starlette's 1 MB.
        form = await self.request.form()
        if self.session is None:
            await self.keep_typed_text(form)
        self._check_csrf(form)
        return form

    def _check_csrf(self, form: FormData) -> None:
        given = form.get(CSRF_FIELD)
        if self.session is None or not isinstance(given, str) or not secrets.compare_digest(given, self.session.csrf):
            raise CsrfRefused()

    async def keep_typed_text(self, form: FormData) -> None:
        """Keep what was typed and send the person to sign in. With a session still there (signed out meanwhile)
        the form must be its own; with none (it ended) there is nothing to check it against."""
        if self.session is not None:
            self._check_csrf(form)
        target = safe_next(str(form.get("return_to") or urlsplit(self.request.headers.get("referer", "/")).path))
        fields = [TypedValue(name=n, value=v) for n, v in form.multi_items() if isinstance(v, str) and n != CSRF_FIELD]
        session = await self.ensure_session()
        session.pending_form = PendingForm(path=target, fields=fields)
        await self.portal.sessions.save(session)
        raise SignInRequired(target, session.token if self._new_session else None)

    def typed_before(self) -> dict[str, list[str]] | None:
        """What this person typed on this page before their session ended, once."""
        if self.session is None or self.session.pending_form is None:
            return None
        if self.session.pending_form.path != self.request.url.path:
            return None
        fields = self.session.pending_form.values()
        self.session.pending_form = None
        return fields

    # --- what the next page tells, once ---------------------------------------------------------------------------

    async def tell(self, about: str, action: str, **more: str) -> None:
        """What the next page about `about` (a dossier's code, a draft's id, a page's path) tells, once: the answer to
        what this person just did, kept in the session, not in the address, so a reload or a link does not repeat it."""
        session = await self.ensure_session()
        values = {"about": about, "action": action, **more}
        session.notice = [TypedValue(name=n, value=v) for n, v in values.items()]
        await self.portal.sessions.save(session)

    async def take_notice(self, about: str) -> dict[str, str] | None:
        """What the last action on `about` answered, once (a receipt's PIN is not kept any longer than that)."""
        session = self.session
        if session is None or not session.notice:
            return None
        notice = {n.name: n.value for n in session.notice}
        if notice.get("about") != about:
            return None
        session.notice = None
        await self.portal.sessions.save(session)
        return notice

    # --- the signed-in person's token -----------------------------------------------------------------------------

    async def token(self) -> str:
        """A valid access token of the signed-in person, refreshed first when it is about to expire."""
        session = self.session
        if session is None or session.tokens is None or session.user is None:
            raise SignInRequired(self.path)
        margin = self.portal.settings.refresh_margin_seconds
        if (session.tokens.expires_at - bson_now()).total_seconds() < margin:
            try:
                session.tokens = await self.portal.oidc.refresh(session.tokens)
            except SignInFailed as exc:
                session.user, session.tokens = None, None
                await self.portal.sessions.save(session)
                raise SignInRequired(self.path) from exc
            await self.portal.sessions.save(session)
        return session.tokens.access_token

    async def save_session(self) -> None:
        if self.session is not None:
            await self.portal.sessions.save(self.session)


async def current_page(request: Request) -> Page:
    portal = portal_of(request)
    session = await portal.sessions.load(request.cookies.get(COOKIE))
    return Page(request, portal, session)


CurrentPage = Annotated[Page, Depends(current_page)]


async def signed_in_page(page: CurrentPage) -> Page:
    if page.user is None:
        if page.request.method == "POST":
            # Back to the page the form was on (not to this POST's address), with what was typed in it.
            await page.keep_typed_text(await page.request.form())
        raise SignInRequired(page.path)
    return page


SignedInPage = Annotated[Page, Depends(signed_in_page)]


def login_url(next_path: str) -> str:
    return f"/dang-nhap?next={quote(safe_next(next_path), safe='/')}"


def problem_errors(problem: ApiProblem, t: Translator) -> FormErrors:
    """The API's problem+json as form errors: each named field's message in the person's language."""
    errors = FormErrors()
    for error in problem.errors:
        errors.add(error.field, translate_problem(error, t))
    if not errors:
        errors.general.append(problem_message(problem, t))
    return errors


def translate_problem(error: FieldError, t: Translator) -> str:
    return readable(error.message, t)


def problem_message(problem: ApiProblem, t: Translator) -> str:
    key = f"status.{problem.status}"
    prefix = t(key) if t.has(key) else t("status.other")
    return f"{prefix} {readable(problem.detail, t)}".strip()


def uploads(form: FormData, name: str) -> list[UploadFile]:
    return [v for v in form.getlist(name) if isinstance(v, UploadFile) and v.filename]
