"""Signing in and out at the identity provider, and the language switch."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hoso.logs import get_logger
from portal.i18n import LANGUAGE_COOKIE, LANGUAGES
from portal.oidc import SignInFailed
from portal.sessions import COOKIE
from portal.web import CurrentPage, safe_next, set_session_cookie

log = get_logger(__name__)


def auth_router() -> APIRouter:
    router = APIRouter()

    @router.get("/dang-nhap", response_model=None)
    async def login(page: CurrentPage, next: str = "/") -> Response:
        target = safe_next(next)
        if page.user is not None:
            return page.redirect(target)
        session = await page.ensure_session()
        url, pending = await page.portal.oidc.start_login(target, locale=page.t.language)
        session.login = pending
        await page.portal.sessions.save(session)
        return page.redirect(url, status_code=303)

    @router.get("/auth/callback", response_model=None)
    async def callback(
        page: CurrentPage, code: str = "", state: str = "", error: str = "", error_description: str = ""
    ) -> Response:
        session = page.session
        if session is None or session.login is None:
            # A callback without a sign-in under way (an old tab, a reused link): start again.
            return page.redirect("/dang-nhap")
        pending = session.login
        session.login = None
        if error or not code:
            log.info("portal.sign_in_refused", error=error, detail=error_description[:200])
            await page.portal.sessions.save(session)
            return await page.render("error.html", status_code=400, message=page.t("auth.refused"))
        try:
            user, tokens = await page.portal.oidc.finish_login(pending, code=code, state=state)
        except SignInFailed as exc:
            log.warning("portal.sign_in_failed", reason=str(exc))
            await page.portal.sessions.save(session)
            return await page.render("error.html", status_code=400, message=page.t("auth.failed"))
        session.user, session.tokens = user, tokens
        renewed = await page.portal.sessions.renew(session)
        log.info("portal.signed_in", subject=user.subject, roles=user.roles)
        response = RedirectResponse(safe_next(pending.next), status_code=303)
        set_session_cookie(response, renewed.token, page.portal.settings)
        return response

    @router.post("/dang-xuat", response_model=None)
    async def logout(page: CurrentPage) -> Response:
        await page.form()
        session = page.session
        assert session is not None
        tokens = session.tokens
        await page.portal.sessions.delete(session)
        target = f"{page.portal.settings.public_url.rstrip('/')}/"
        url = await page.portal.oidc.logout_url(tokens, target) if tokens is not None else None
        response = RedirectResponse(url or "/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/ngon-ngu/{language}", response_class=HTMLResponse)
    async def switch_language(page: CurrentPage, language: str, next: str = "/") -> Response:
        response = RedirectResponse(safe_next(next), status_code=303)
        if language in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                language,
                max_age=365 * 86400,
                samesite="lax",
                secure=page.portal.settings.cookie_secure,
            )
        return response

    return router
