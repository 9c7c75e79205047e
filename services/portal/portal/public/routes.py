"""Pages anyone may see: the procedures in force, a procedure with its fee calculator, public tracking."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from portal.api_client import ApiProblem
from portal.catalog import fee_inputs
from portal.web import CurrentPage, FormErrors, problem_errors

TRACKING_CODE = re.compile(r"^[A-Z0-9.]+-\d{6}-\d{4}$")
TRACKING_PIN = re.compile(r"^\d{6,12}$")


def folded(text: str) -> str:
    """Lower case without diacritics, so "danh gia tac dong" finds "Đánh giá tác động"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def matches(procedure: dict[str, Any], query: str) -> bool:
    haystack = folded(" ".join(str(procedure.get(k) or "") for k in ("procedure_code", "name_vi", "name_en")))
    return all(word in haystack for word in folded(query).split())


def client_address(request: Request) -> str | None:
    """Who is at the page: the address the gateway saw (the last of X-Forwarded-For, which the gateway appends;
    what a client wrote before it is not believed), else the connection's."""
    forwarded = request.headers.get("x-forwarded-for", "")
    last = forwarded.rsplit(",", 1)[-1].strip()
    return last or (request.client.host if request.client else None)


def public_router() -> APIRouter:
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse)
    async def home(page: CurrentPage) -> HTMLResponse:
        procedures = list((await page.portal.catalog.summaries()).values())
        return await page.render("public/home.html", procedures=procedures)

    @router.get("/hieu-qua", response_class=HTMLResponse)
    async def performance(page: CurrentPage) -> HTMLResponse:
        """How each procedure is served, for anyone: on-time rate, median working days and the ratings."""
        summaries = await page.portal.catalog.summaries()
        answer = await page.portal.api.performance(months=12)
        figures = {row["procedure_code"]: row for row in answer["procedures"]}
        rows = [
            {"code": code, "name": page.t.pick(p["name_vi"], p["name_en"]), "figures": figures.get(code)}
            for code, p in sorted(summaries.items())
        ]
        return await page.render("public/performance.html", rows=rows, since=answer["since"])

    @router.get("/thu-tuc", response_class=HTMLResponse)
    async def procedures(page: CurrentPage, q: str = "") -> HTMLResponse:
        query = q.strip()[:200]
        found = [p for p in (await page.portal.catalog.summaries()).values() if not query or matches(p, query)]
        template = "public/procedure_list.html" if page.request.headers.get("HX-Request") else "public/procedures.html"
        return await page.render(template, procedures=found, query=query)

    @router.get("/thu-tuc/{code}", response_class=HTMLResponse)
    async def procedure(page: CurrentPage, code: str) -> HTMLResponse:
        try:
            answer = await page.portal.catalog.procedure(code)
        except ApiProblem as problem:
            if problem.status in (404, 422):
                return await page.render("error.html", status_code=404, message=page.t("procedure.not_found"))
            raise
        version = answer["in_force"]
        quote, errors, asked = await _fee_quote(page, code, version)
        template = "public/fee_result.html" if page.request.headers.get("HX-Request") else "public/procedure.html"
        return await page.render(
            template, procedure=version, versions=answer["versions"], quote=quote, errors=errors, asked=asked
        )

    @router.get("/tra-cuu", response_class=HTMLResponse)
    async def tracking_form(page: CurrentPage) -> HTMLResponse:
        return await page.render("public/tracking.html", result=None, values={})

    @router.post("/tra-cuu", response_class=HTMLResponse)
    async def tracking(page: CurrentPage, request: Request) -> HTMLResponse:
        form = await page.form()
        code = str(form.get("code") or "").strip().upper()
        pin = str(form.get("pin") or "").strip()
        errors = FormErrors()
        if not TRACKING_CODE.match(code):
            errors.add("code", page.t("tracking.code_invalid"))
        if not TRACKING_PIN.match(pin):
            errors.add("pin", page.t("tracking.pin_invalid"))
        values = {"code": code}
        if errors:
            return await page.render("public/tracking.html", status_code=422, errors=errors, result=None, values=values)
        try:
            result = await page.portal.api.tracking(code, pin, client_address=client_address(request))
        except ApiProblem as problem:
            if problem.status == 404:
                # The same answer for an unknown code and a wrong PIN: nothing tells which one it was.
                errors.general.append(page.t("tracking.not_found"))
                status = 404
            elif problem.status == 429:
                errors.general.append(page.t("tracking.too_many"))
                status = 429
            else:
                raise
            return await page.render(
                "public/tracking.html", status_code=status, errors=errors, result=None, values=values
            )
        result["procedure_name"] = await page.portal.catalog.name(result["procedure_code"], page.t.language)
        return await page.render("public/tracking.html", result=result, values=values)

    return router


async def _fee_quote(
    page: Any, code: str, version: dict[str, Any]
) -> tuple[dict[str, Any] | None, FormErrors, dict[str, str]]:
    asked = fee_inputs(version, page.request.query_params)
    if asked is None:
        return None, FormErrors(), {}
    if not any(asked.values()):
        return None, FormErrors(), asked
    cleaned = {n: v.replace(".", "").replace(",", "").replace(" ", "") for n, v in asked.items()}
    try:
        return await page.portal.api.fee_quote(code, cleaned), FormErrors(), asked
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        return None, problem_errors(problem, page.t), asked
