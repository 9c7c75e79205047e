"""Registering a paper dossier at the desk: brought in person to the one-stop desk or received by post.

The reception officer chooses the procedure, types who the applicant is (a citizen by their personal
identification number, an organisation by its tax code) and what the papers say, and scans each component in.
The scans go to intake under the officer's account; the registration carries an idempotency key made when the
form was drawn, so a second click registers nothing twice. A refused form comes back with everything typed and
the files already sent kept.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from portal.api_client import ApiProblem
from portal.applicant.drafts import dossier_errors, field_values
from portal.applicant.uploads import upload_all
from portal.desk.routes import OfficerPage
from portal.web import FormErrors, Page

PERSONAL_ID = re.compile(r"^\d{12}$")
TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$")
FILE_ID = re.compile(r"^[0-9a-f]{24}$")
KEY = re.compile(r"^desk-[0-9a-f]{32}$")
APPLICANT_INPUTS = ("kind", "name", "personal_id", "tax_code", "address", "email", "phone")


def registration_router() -> APIRouter:
    router = APIRouter()

    @router.get("/can-bo/tiep-nhan-moi", response_class=HTMLResponse)
    async def new(page: OfficerPage, thu_tuc: str = "") -> HTMLResponse:
        if "reception_officer" not in page.user.roles:
            return await page.render("error.html", status_code=403, message=page.t("desk.reception_only"))
        return await _render(page, thu_tuc, values={"channel": "in_person", "applicant.kind": "citizen"})

    @router.post("/can-bo/tiep-nhan-moi", response_class=HTMLResponse, response_model=None)
    async def register(page: OfficerPage) -> Response:
        form = await page.form()
        if "reception_officer" not in page.user.roles:
            return await page.render("error.html", status_code=403, message=page.t("desk.reception_only"))
        token = await page.token()
        procedure = str(form.get("procedure_code") or "")
        version = await _version(page, procedure)
        if version is None:
            return await _render(page, "", status_code=422)
        typed = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"}
        fields, errors, _ = field_values(version, form)
        for name, code in list(errors.by_field.items()):
            errors.by_field[name] = page.t(f"field.{code}")
        applicant = _applicant(form, errors, page)
        channel = str(form.get("channel") or "")
        if channel not in ("in_person", "post"):
            errors.add("channel", page.t("desk.channel_needed"))
        kept = _kept(form, version)
        names = [f"file.{c['code']}" for c in version["components"]]
        uploaded, refused = await upload_all(page, token, form, names)
        errors.by_field.update(refused)
        for name, files in uploaded.items():
            kept.setdefault(name.removeprefix("file."), []).extend({"id": f["id"], "name": f["name"]} for f in files)
        key = str(form.get("key") or "")
        if errors or not KEY.fullmatch(key):
            return await _render(page, procedure, values=typed, errors=errors, kept=kept, status_code=422)
        body = {
            "procedure_code": procedure,
            "channel": channel,
            "applicant": applicant,
            "fields": fields,
            "components": [{"code": c, "file_ids": [f["id"] for f in files]} for c, files in kept.items() if files],
        }
        try:
            dossier = await page.portal.api.register(token, body, idempotency_key=key)
        except ApiProblem as problem:
            return await _render(
                page,
                procedure,
                values=typed,
                errors=dossier_errors(problem, page, as_named=("applicant", "channel")),
                kept=kept,
                status_code=problem.status,
            )
        await page.tell(dossier["code"], "register")
        return page.redirect(f"/can-bo/ho-so/{dossier['code']}#ket-qua")

    return router


async def _version(page: Page, procedure: str) -> dict[str, Any] | None:
    if procedure not in await page.portal.catalog.summaries():
        return None
    return await page.portal.catalog.version_on(procedure)


def _applicant(form: FormData, errors: FormErrors, page: Page) -> dict[str, Any]:
    given = {n: str(form.get(f"applicant.{n}") or "").strip() for n in APPLICANT_INPUTS}
    kind = given["kind"] if given["kind"] in ("citizen", "organisation") else ""
    if not kind:
        errors.add("applicant.kind", page.t("desk.kind_needed"))
    if len(given["name"]) < 2:
        errors.add("applicant.name", page.t("desk.applicant_name_needed"))
    if kind == "citizen" and not PERSONAL_ID.fullmatch(given["personal_id"]):
        errors.add("applicant.personal_id", page.t("desk.personal_id_format"))
    if kind == "organisation" and not TAX_CODE.fullmatch(given["tax_code"]):
        errors.add("applicant.tax_code", page.t("desk.tax_code_format"))
    if given["address"] and len(given["address"]) < 5:
        errors.add("applicant.address", page.t("desk.address_short"))
    identifier = "personal_id" if kind == "citizen" else "tax_code"
    applicant: dict[str, Any] = {"kind": kind, "name": given["name"], identifier: given[identifier]}
    for optional in ("address", "email", "phone"):
        if given[optional]:
            applicant[optional] = given[optional]
    return applicant


def _kept(form: FormData, version: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Files sent with an earlier, refused, try of this form (kept.<code> and kept_name.<code>)."""
    kept: dict[str, list[dict[str, str]]] = {}
    for component in version["components"]:
        code = component["code"]
        ids, names = form.getlist(f"kept.{code}"), form.getlist(f"kept_name.{code}")
        for file_id, name in zip(ids, names, strict=False):
            if isinstance(file_id, str) and FILE_ID.fullmatch(file_id) and isinstance(name, str):
                kept.setdefault(code, []).append({"id": file_id, "name": name})
    return kept


async def _render(
    page: Page,
    procedure: str,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    kept: dict[str, list[dict[str, str]]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    summaries = await page.portal.catalog.summaries()
    version = await _version(page, procedure) if procedure else None
    values = dict(values or {})
    key = values.get("key", "")
    return await page.render(
        "desk/register.html",
        status_code=status_code,
        errors=errors,
        procedure=procedure if version else "",
        version=version,
        procedure_options=[(c, page.t.pick(p["name_vi"], p["name_en"])) for c, p in sorted(summaries.items())],
        values=values,
        kept=kept or {},
        key=key if KEY.fullmatch(key) else f"desk-{uuid.uuid4().hex}",
    )
