"""An applicant's dossiers: the list, one dossier with its clock and timeline, supplements, withdrawal, payment,
and the downloads of its files and forms."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from hoso.deadlines import DeadlineUnit
from hoso.mongo import bson_now
from portal import messages
from portal.api_client import ApiProblem
from portal.applicant.clock import legal_clock
from portal.applicant.uploads import upload_all
from portal.web import FormErrors, Page, SignedInPage, problem_errors

CODE = r"[A-Z0-9.]+-\d{6}-\d{4}"
FILE_ID = re.compile(r"[0-9a-f]{24}")
# The forms of Circular 01/2018 an applicant receives, and the event that gives each.
APPLICANT_FORMS = {
    "vn.gov.hoso.dossier.received.v1": "01",
    "vn.gov.hoso.dossier.supplement_requested.v1": "02",
    "vn.gov.hoso.dossier.refused.v1": "03",
    "vn.gov.hoso.dossier.deadline_extended.v1": "04",
}
# Kinds of step of those types that give no form: the revision after a council (the agency's own notice, not Form
# 02) and an extension the law grants by an authority's decision (no apology, no Form 04).
NO_FORM_DETAILS = frozenset({"revision", "granted"})


def forms_given(timeline: list[dict[str, Any]]) -> list[str]:
    """The forms (01-04) the steps of a dossier's timeline gave, each once, in order."""
    return sorted(
        {
            APPLICANT_FORMS[e["event_type"]]
            for e in timeline
            if e["event_type"] in APPLICANT_FORMS and e.get("detail") not in NO_FORM_DETAILS
        }
    )


# Steps of the timeline that are not the applicant's to read (reminders to officers, delivery receipts).
HIDDEN_STEPS = ("vn.gov.hoso.notification.", "vn.gov.hoso.dossier.due_soon.", "vn.gov.hoso.dossier.archived.")


async def dossier_view(page: Page, dossier: dict[str, Any]) -> dict[str, Any]:
    """What the list and the dossier's page show of one dossier: its procedure's name and its legal clock."""
    submitted = datetime.fromisoformat(dossier["submitted_at"]) if isinstance(dossier["submitted_at"], str) else None
    day: date | None = submitted.astimezone(page.portal.calendar_zone).date() if submitted else None
    version = await page.portal.catalog.version_on(dossier["procedure_code"], day)
    unit = DeadlineUnit(version["deadline"]["unit"])
    clock = legal_clock(dossier, unit, now=bson_now(), calendar=page.portal.calendar)
    name = page.t.pick(version["name_vi"], version["name_en"])
    return {"dossier": dossier, "version": version, "procedure_name": name, "clock": clock}


def dossiers_router() -> APIRouter:
    router = APIRouter()

    @router.get("/ho-so", response_class=HTMLResponse)
    async def my_dossiers(page: SignedInPage, trang: int = 1) -> HTMLResponse:
        token = await page.token()
        number = max(1, min(trang, 1000))
        answer, drafts = await asyncio.gather(
            page.portal.api.my_dossiers(token, offset=(number - 1) * 20, limit=20), page.portal.api.drafts(token)
        )
        views = [await dossier_view(page, d) for d in answer["items"]]
        for draft in drafts:
            draft["procedure_name"] = await page.portal.catalog.name(draft["procedure_code"], page.t.language)
        pages = max(1, -(-answer["total"] // 20))
        return await page.render(
            "applicant/dossiers.html",
            views=views,
            drafts=drafts,
            page_number=number,
            pages=pages,
            total=answer["total"],
            draft_deleted=bool(await page.take_notice("/ho-so")),
        )

    @router.get("/ho-so/{code}", response_class=HTMLResponse)
    async def dossier(page: SignedInPage, code: str) -> HTMLResponse:
        return await render_dossier(page, code)

    @router.post("/ho-so/{code}/bo-sung", response_class=HTMLResponse, response_model=None)
    async def supplement(page: SignedInPage, code: str) -> Response:
        form = await page.form()
        token = await page.token()
        current = await page.portal.api.dossier(token, code)
        request = current.get("supplement_request") or {}
        items: list[str] = list(request.get("items") or [])
        errors = FormErrors()
        uploaded, upload_errors = await upload_all(page, token, form, [f"item.{n}" for n in range(len(items))])
        errors.by_field.update(upload_errors)
        by_component: dict[str, list[str]] = {}
        lines = []
        kept: dict[int, list[dict[str, str]]] = {}
        for n, item in enumerate(items):
            # Files sent before a refusal come back as kept.<n>, so nobody uploads them twice.
            earlier = [
                {"id": i, "name": name}
                for i, name in zip(form.getlist(f"kept.{n}"), form.getlist(f"kept_name.{n}"), strict=False)
                if isinstance(i, str) and FILE_ID.fullmatch(i) and isinstance(name, str)
            ]
            files = earlier + [{"id": f["id"], "name": f["name"]} for f in uploaded.get(f"item.{n}", [])]
            kept[n] = files
            component = str(form.get(f"component.{n}") or "")
            if files and not component:
                errors.add(f"component.{n}", page.t("supplement.component_needed", n=n + 1))
            elif files:
                by_component.setdefault(component, []).extend(f["id"] for f in files)
                lines.append(f"{n + 1}. {item}: {', '.join(f['name'] for f in files)}")
        note = str(form.get("note") or "").strip()[:1500]
        chosen = {f"component.{n}": str(form.get(f"component.{n}") or "") for n in range(len(items))}
        typed = {"note": note, **chosen}
        if not any(kept.values()) and not errors:
            errors.add("item.0", page.t("supplement.nothing"))
        if errors:
            return await render_dossier(page, code, errors=errors, status_code=422, typed=typed, kept=kept)
        body = {
            "components": [{"code": c, "file_ids": ids} for c, ids in by_component.items()],
            "note": "\n".join([*lines, note] if note else lines)[:2000],
        }
        try:
            await page.portal.api.supplement(token, code, body)
        except ApiProblem as problem:
            return await render_dossier(
                page, code, errors=problem_errors(problem, page.t), status_code=problem.status, typed=typed, kept=kept
            )
        await page.tell(code, "bao-cao" if request.get("purpose") == "revision" else "bo-sung")
        return page.redirect(f"/ho-so/{code}")

    @router.post("/ho-so/{code}/rut", response_class=HTMLResponse, response_model=None)
    async def withdraw(page: SignedInPage, code: str) -> Response:
        form = await page.form()
        token = await page.token()
        reason = str(form.get("reason") or "").strip()
        errors = FormErrors()
        if len(reason) < 3:
            errors.add("reason", page.t("withdraw.reason_needed"))
        if form.get("confirm") != "yes":
            errors.add("confirm", page.t("withdraw.confirm_needed"))
        if errors:
            return await render_dossier(page, code, errors=errors, status_code=422, typed={"reason": reason})
        try:
            await page.portal.api.withdraw(token, code, reason)
        except ApiProblem as problem:
            return await render_dossier(
                page, code, errors=problem_errors(problem, page.t), status_code=problem.status, typed={"reason": reason}
            )
        await page.tell(code, "rut")
        return page.redirect(f"/ho-so/{code}")

    @router.post("/ho-so/{code}/tin-nhan", response_class=HTMLResponse, response_model=None)
    async def write(page: SignedInPage, code: str) -> Response:
        token = await page.token()
        errors, typed = await messages.send(page, token, code)
        if errors:
            return await render_dossier(page, code, errors=errors, status_code=422, typed=typed)
        await page.tell(code, "tin-nhan")
        return page.redirect(f"/ho-so/{code}#trao-doi")

    @router.post("/ho-so/{code}/danh-gia", response_class=HTMLResponse, response_model=None)
    async def rate(page: SignedInPage, code: str) -> Response:
        form = await page.form()
        token = await page.token()
        score = str(form.get("score") or "")
        comment = str(form.get("comment") or "").strip()
        errors = FormErrors()
        if score not in ("1", "2", "3", "4", "5"):
            errors.add("score", page.t("rating.score_needed"))
        if len(comment) > 1000:
            errors.add("comment", page.t("rating.too_long"))
        typed = {"score": score, "comment": comment}
        if errors:
            return await render_dossier(page, code, errors=errors, status_code=422, typed=typed)
        try:
            await page.portal.api.rate(token, code, {"score": int(score), "comment": comment})
        except ApiProblem as problem:
            return await render_dossier(
                page, code, errors=problem_errors(problem, page.t), status_code=problem.status, typed=typed
            )
        await page.tell(code, "danh-gia")
        return page.redirect(f"/ho-so/{code}#danh-gia")

    @router.get("/ho-so/{code}/thanh-toan", response_model=None)
    async def pay(page: SignedInPage, code: str) -> Response:
        token = await page.token()
        try:
            link = await page.portal.api.payment(token, code)
        except ApiProblem as problem:
            return await render_dossier(page, code, errors=problem_errors(problem, page.t), status_code=problem.status)
        return page.redirect(link["payment_url"])

    @router.get("/ho-so/{code}/bieu-mau/{form}.pdf", response_model=None)
    async def form_pdf(page: SignedInPage, code: str, form: str) -> Response:
        if form not in APPLICANT_FORMS.values() or not re.fullmatch(CODE, code):
            return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
        return await download(page, f"/api/v1/records/dossiers/{code}/forms/{form}.pdf")

    @router.get("/tep/{file_id}", response_model=None)
    async def filedownload(page: SignedInPage, file_id: str) -> Response:
        if not FILE_ID.fullmatch(file_id):
            return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
        return await download(page, f"/api/v1/files/{file_id}")

    return router


async def render_dossier(
    page: Page,
    code: str,
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    kept: dict[int, list[dict[str, str]]] | None = None,
) -> HTMLResponse:
    if not re.fullmatch(CODE, code):
        return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
    token = await page.token()
    # The dossier (intake) and its timeline (records) at once; the timeline is shown only once the dossier is known.
    # Opening the page is reading the agency's messages, so the thread is opened with the rest at once.
    found, steps_found, thread = await asyncio.gather(
        page.portal.api.dossier(token, code),
        _timeline(page, token, code),
        messages.open_thread(page, token, code),
        return_exceptions=True,
    )
    if isinstance(found, ApiProblem) and found.status in (404, 422):
        return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
    if isinstance(found, BaseException):
        raise found
    if isinstance(steps_found, BaseException):
        raise steps_found
    dossier, timeline = found, steps_found
    view = await dossier_view(page, dossier)
    if isinstance(thread, BaseException):
        raise thread
    # A returned result is rated once, in records.
    rating = await page.portal.api.rating(token, code) if dossier["status"]["code"] == 10 else None
    forms = forms_given(timeline)
    steps = [e for e in timeline if not e["event_type"].startswith(HIDDEN_STEPS)]
    notice = await page.take_notice(code)
    typed_before = page.typed_before() or {}
    values = {k: v[0] for k, v in typed_before.items() if v} | (typed or {})
    if typed_before:
        await page.save_session()
    return await page.render(
        "applicant/dossier.html",
        status_code=status_code,
        errors=errors,
        steps=steps,
        forms=forms,
        values=values,
        kept=kept or {},
        done=(notice or {}).get("action", ""),
        rating=rating,
        thread=thread,
        **view,
    )


async def _timeline(page: Page, token: str, code: str) -> list[dict[str, Any]]:
    try:
        answer = await page.portal.api.timeline(token, code)
    except ApiProblem as problem:
        if problem.status == 404:  # records has not heard of the dossier yet: a moment after submission
            return []
        raise
    entries: list[dict[str, Any]] = answer["entries"]
    return entries


async def download(page: Page, path: str, *, inline_pdf: bool = False) -> Response:
    """A file or form from the API, streamed; `inline_pdf`: a PDF opens in the browser instead of being saved."""
    token = await page.token()
    try:
        answer, found = await page.portal.api.download(token, path)
    except ApiProblem:
        return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
    headers = {**found.headers, "Cache-Control": "private, no-store"}
    disposition = headers.get("content-disposition")
    if inline_pdf and found.content_type.startswith("application/pdf") and disposition:
        headers["content-disposition"] = disposition.replace("attachment", "inline", 1)
    return StreamingResponse(
        found.chunks, media_type=found.content_type, headers=headers, background=BackgroundTask(answer.aclose)
    )
