"""The in-app inbox and the notification preferences (notify's API)."""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from portal.api_client import ApiProblem
from portal.web import SignedInPage, problem_errors

ITEM_ID = re.compile(r"^[0-9a-f]{32}$")
CHANNELS = ("email", "sms", "in_app")


def inbox_router() -> APIRouter:
    router = APIRouter()

    @router.get("/thong-bao", response_class=HTMLResponse)
    async def inbox(page: SignedInPage, trang: int = 1) -> HTMLResponse:
        number = max(1, min(trang, 1000))
        answer = await page.portal.api.inbox(await page.token(), page=number)
        pages = max(1, -(-answer["total"] // answer["page_size"]))
        return await page.render("applicant/inbox.html", inbox=answer, page_number=number, pages=pages)

    @router.post("/thong-bao/{item_id}/da-doc", response_model=None)
    async def mark_read(page: SignedInPage, item_id: str) -> Response:
        await page.form()
        if ITEM_ID.match(item_id):
            try:
                await page.portal.api.mark_read(await page.token(), item_id)
            except ApiProblem as problem:
                if problem.status != 404:
                    raise
        return page.redirect("/thong-bao")

    @router.get("/thong-bao/cai-dat", response_class=HTMLResponse)
    async def preferences(page: SignedInPage) -> HTMLResponse:
        current = await page.portal.api.preferences(await page.token())
        saved = bool(await page.take_notice("/thong-bao/cai-dat"))
        return await page.render("applicant/preferences.html", preferences=current, saved=saved)

    @router.post("/thong-bao/cai-dat", response_class=HTMLResponse, response_model=None)
    async def save_preferences(page: SignedInPage) -> Response:
        form = await page.form()
        token = await page.token()
        body = {
            "language": "en" if form.get("language") == "en" else "vi",
            "channels": {c: form.get(f"channel.{c}") == "yes" for c in CHANNELS},
        }
        try:
            await page.portal.api.set_preferences(token, body)
        except ApiProblem as problem:
            current = await page.portal.api.preferences(token)
            return await page.render(
                "applicant/preferences.html",
                status_code=problem.status,
                preferences=current,
                errors=problem_errors(problem, page.t),
                saved=False,
            )
        await page.tell("/thong-bao/cai-dat", "luu")
        return page.redirect("/thong-bao/cai-dat")

    return router
