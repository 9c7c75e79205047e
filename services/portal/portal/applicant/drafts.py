"""Preparing a dossier: a draft kept by intake (leave and come back), the check-your-answers page, the submission
with an idempotency key (two clicks make one dossier) and the confirmation page with the dossier's code."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from portal.api_client import ApiProblem
from portal.applicant.uploads import refusal, upload_all
from portal.catalog import fee_inputs
from portal.web import FormErrors, Page, SignedInPage, problem_errors, uploads

DRAFT_ID = re.compile(r"^[0-9a-f]{32}$")


def applicant_kind(page: Page) -> str:
    """An enterprise signs in with its tax code (an organisation account of VNeID); a citizen with a personal id."""
    user = page.user
    return "organisation" if user is not None and user.tax_code else "citizen"


def field_values(version: dict[str, Any], form: FormData) -> tuple[dict[str, Any], FormErrors, dict[str, str]]:
    """The procedure's fields from the form, typed as intake expects; what the person typed is kept as text."""
    values: dict[str, Any] = {}
    typed: dict[str, str] = {}
    errors = FormErrors()
    for spec in version["fields"]:
        name = spec["name"]
        raw = str(form.get(f"field.{name}") or "").strip()
        typed[name] = raw
        if raw == "":
            continue
        if spec["type"] == "integer":
            digits = raw.replace(".", "").replace(",", "").replace(" ", "")
            if not digits.isdigit():
                errors.add(f"field.{name}", "number")
                continue
            values[name] = int(digits)
        elif spec["type"] == "boolean":
            values[name] = raw == "yes"
        else:
            values[name] = raw
    return values, errors, typed


def drafts_router() -> APIRouter:
    router = APIRouter()

    @router.post("/nop-ho-so/{procedure}", response_model=None)
    async def start(page: SignedInPage, procedure: str) -> Response:
        await page.form()
        token = await page.token()
        body = {"procedure_code": procedure, "applicant_kind": applicant_kind(page), "components": [], "fields": {}}
        try:
            draft = await page.portal.api.create_draft(token, body)
        except ApiProblem as problem:
            return await page.render("error.html", status_code=problem.status, message=problem.detail)
        return page.redirect(f"/ban-nhap/{draft['id']}")

    @router.get("/ban-nhap/{draft_id}", response_class=HTMLResponse)
    async def edit(page: SignedInPage, draft_id: str) -> HTMLResponse:
        draft = await _draft(page, draft_id)
        if draft is None:
            return await page.render("error.html", status_code=404, message=page.t("draft.not_found"))
        typed_before = page.typed_before()
        typed = {k.removeprefix("field."): v[0] for k, v in (typed_before or {}).items() if k.startswith("field.")}
        if typed_before is not None:
            await page.save_session()
        return await _render_form(page, draft, typed=typed or None)

    @router.post("/ban-nhap/{draft_id}", response_class=HTMLResponse, response_model=None)
    async def save(page: SignedInPage, draft_id: str) -> Response:
        form = await page.form()
        token = await page.token()
        draft = await _draft(page, draft_id)
        if draft is None:
            return await page.render("error.html", status_code=404, message=page.t("draft.not_found"))
        version = await page.portal.catalog.version_on(draft["procedure_code"])
        values, errors, typed = field_values(version, form)
        for name in list(errors.by_field):
            errors.by_field[name] = page.t("field.number")
        names = [f"file.{c['code']}" for c in version["components"]]
        uploaded, refused = await upload_all(page, token, form, names)
        errors.by_field.update(refused)
        removed = set(form.getlist("remove"))
        components = []
        for component in version["components"]:
            kept = [i for i in _files_of(draft, component["code"]) if i not in removed]
            kept += [f["id"] for f in uploaded.get(f"file.{component['code']}", [])]
            if kept:
                components.append({"code": component["code"], "file_ids": kept})
        body = {
            "procedure_code": draft["procedure_code"],
            "applicant_kind": draft["applicant_kind"],
            "components": components,
            "fields": values,
        }
        saved, api_errors = await _save(page, token, draft_id, body)
        errors.by_field.update({k: v for k, v in api_errors.by_field.items() if k not in errors.by_field})
        errors.general.extend(api_errors.general)
        if errors:
            return await _render_form(page, saved or draft, typed=typed, errors=errors, status_code=422)
        if form.get("action") == "continue":
            return page.redirect(f"/ban-nhap/{draft_id}/kiem-tra")
        await page.tell(draft_id, "luu")
        return page.redirect(f"/ban-nhap/{draft_id}")

    @router.post("/ban-nhap/{draft_id}/tep/{component}", response_class=HTMLResponse, response_model=None)
    async def add_files(page: SignedInPage, draft_id: str, component: str) -> Response:
        """Files chosen for one component, sent as soon as they are chosen (the page's script does this, showing
        each upload's progress); the answer is the component's part of the form, with the files or the refusal."""
        form = await page.form()
        token = await page.token()
        draft = await _draft(page, draft_id)
        if draft is None:
            return await page.render("error.html", status_code=404, message=page.t("draft.not_found"))
        version = await page.portal.catalog.version_on(draft["procedure_code"])
        spec = next((c for c in version["components"] if c["code"] == component), None)
        if spec is None:
            return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
        name = f"file.{component}"
        errors, added, refused = FormErrors(), [], []
        for upload in uploads(form, name):
            try:
                draft = await page.portal.api.add_draft_file(
                    token,
                    draft_id,
                    component,
                    name=upload.filename or "file",
                    content_type=upload.content_type or "application/octet-stream",
                    data=upload.file,
                )
                added.append(upload.filename or "")
            except ApiProblem as problem:
                if problem.status >= 500 or problem.status in (401, 403):
                    raise
                refused.append(refusal(page, problem, upload.filename))
            finally:
                await upload.close()
        if refused:
            errors.add(name, ". ".join(refused))  # each refused file named, with its reason
        if not page.request.headers.get("HX-Request"):
            if errors:
                return await _render_form(page, draft, errors=errors, status_code=422)
            return page.redirect(f"/ban-nhap/{draft_id}")
        return await page.render(
            "applicant/component.html",
            status_code=422 if errors else 200,
            c=spec,
            draft=draft,
            files=_file_names(draft),
            errors=errors,
            added=added,
        )

    @router.get("/ban-nhap/{draft_id}/kiem-tra", response_class=HTMLResponse)
    async def check(page: SignedInPage, draft_id: str) -> HTMLResponse:
        draft = await _draft(page, draft_id)
        if draft is None:
            return await page.render("error.html", status_code=404, message=page.t("draft.not_found"))
        return await _render_check(page, draft)

    @router.post("/ban-nhap/{draft_id}/nop", response_class=HTMLResponse, response_model=None)
    async def submit(page: SignedInPage, draft_id: str) -> Response:
        await page.form()
        token = await page.token()
        draft = await _draft(page, draft_id)
        if draft is None:
            # Submitted already (a second click after the first finished): the dossier is in the list.
            return page.redirect("/ho-so")
        body = {k: draft[k] for k in ("procedure_code", "applicant_kind", "components", "fields")}
        try:
            dossier = await page.portal.api.submit(
                token, body, idempotency_key=f"draft-{draft_id}", request_id=page.request.state.request_id
            )
        except ApiProblem as problem:
            return await _render_check(page, draft, errors=problem_errors(problem, page.t), status_code=problem.status)
        await page.portal.api.delete_draft(token, draft_id)
        return page.redirect(f"/ho-so/{dossier['code']}/da-nop")

    @router.post("/ban-nhap/{draft_id}/xoa", response_model=None)
    async def delete(page: SignedInPage, draft_id: str) -> Response:
        await page.form()
        if DRAFT_ID.match(draft_id):
            await page.portal.api.delete_draft(await page.token(), draft_id)
        await page.tell("/ho-so", "xoa-nhap")
        return page.redirect("/ho-so")

    @router.get("/ho-so/{code}/da-nop", response_class=HTMLResponse)
    async def confirmation(page: SignedInPage, code: str) -> HTMLResponse:
        token = await page.token()
        try:
            dossier = await page.portal.api.dossier(token, code)
        except ApiProblem:
            return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
        name = await page.portal.catalog.name(dossier["procedure_code"], page.t.language)
        return await page.render("applicant/confirmation.html", dossier=dossier, procedure_name=name)

    return router


def _files_of(draft: dict[str, Any], code: str) -> list[str]:
    for component in draft["components"]:
        if component["code"] == code:
            return list(component["file_ids"])
    return []


async def _draft(page: Page, draft_id: str) -> dict[str, Any] | None:
    if not DRAFT_ID.match(draft_id):
        return None
    try:
        return await page.portal.api.draft(await page.token(), draft_id)
    except ApiProblem as problem:
        if problem.status == 404:
            return None
        raise


async def _save(
    page: Page, token: str, draft_id: str, body: dict[str, Any]
) -> tuple[dict[str, Any] | None, FormErrors]:
    """Save the draft; when intake refuses some of it, save the rest, so no file or answer that was right is lost."""
    try:
        return await page.portal.api.save_draft(token, draft_id, body), FormErrors()
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        errors = dossier_errors(problem, page)
        wrong = {e.field for e in problem.errors}
        body["fields"] = {k: v for k, v in body["fields"].items() if f"fields.{k}" not in wrong}
        body["components"] = [
            {"code": c["code"], "file_ids": [i for i in c["file_ids"] if f"components.{c['code']}.{i}" not in wrong]}
            for c in body["components"]
            if f"components.{c['code']}" not in wrong
        ]
        try:
            return await page.portal.api.save_draft(token, draft_id, body), errors
        except ApiProblem:
            return None, errors


def dossier_errors(problem: ApiProblem, page: Page, *, as_named: tuple[str, ...] = ()) -> FormErrors:
    """Intake names `fields.<name>` and `components.<code>[.<file id>]`; the form's inputs are `field.<name>`
    and `file.<code>`. Names starting with one of `as_named` are the form's own as they are."""
    errors = problem_errors(problem, page.t)
    renamed = FormErrors(general=errors.general)
    for name, message in errors.by_field.items():
        if name.startswith("fields."):
            renamed.add("field." + name.removeprefix("fields."), message)
        elif name.startswith("components."):
            renamed.add("file." + name.removeprefix("components.").split(".")[0], message)
        elif as_named and name.startswith(as_named):
            renamed.add(name, message)
        else:
            renamed.general.append(message)
    return renamed


async def _render_form(
    page: Page,
    draft: dict[str, Any],
    *,
    typed: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    version = await page.portal.catalog.version_on(draft["procedure_code"])
    values = typed if typed is not None else {k: "" if v is None else str(v) for k, v in draft["fields"].items()}
    files = _file_names(draft)
    return await page.render(
        "applicant/draft.html",
        status_code=status_code,
        draft=draft,
        version=version,
        values=values,
        files=files,
        errors=errors,
        saved=bool(await page.take_notice(draft["id"])),
    )


async def _render_check(
    page: Page, draft: dict[str, Any], *, errors: FormErrors | None = None, status_code: int = 200
) -> HTMLResponse:
    version = await page.portal.catalog.version_on(draft["procedure_code"])
    files = _file_names(draft)
    fee: dict[str, Any] | None = None
    asked = fee_inputs(version, draft["fields"])
    if asked is not None:
        try:
            fee = await page.portal.api.fee_quote(draft["procedure_code"], asked)
        except ApiProblem:  # not yet computable (a field is missing): the check page says what is missing
            fee = None
    return await page.render(
        "applicant/check.html",
        status_code=status_code,
        draft=draft,
        version=version,
        files=files,
        fee=fee,
        errors=errors,
    )


def _file_names(draft: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The files of a draft by id, with their names and sizes (from the draft's `files`)."""
    return {f["id"]: f for f in draft.get("files", [])}
