"""The officers' one-stop desk: the queue of each role, a dossier as an officer sees it, and the actions on it.

Everything an officer may do comes from review's answer: the actions available to their role now, each with its
labels and the fields it takes (from the workflow's YAML), so an action added there appears here unchanged. An
action carries the dossier's version the officer saw; if another officer changed the dossier meanwhile, review
refuses it and the page says so with the dossier as it now is.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Mapping
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from hoso.auth import OFFICER_ROLES
from hoso.deadlines import DeadlineUnit
from hoso.events import PublicStatus
from hoso.events.status import status_label
from hoso.mongo import bson_now
from portal import messages
from portal.api_client import ApiProblem
from portal.applicant.clock import Clock, legal_clock
from portal.applicant.dossiers import CODE, download, forms_given
from portal.desk.actions import ActionInput, read_action
from portal.directory import DirectoryUnavailable, Officer
from portal.web import FormErrors, Page, SignedInPage, problem_errors

# The roles of the desk, in the order a dossier meets them; each is a tab of the queue.
DESK_ROLES = ("reception_officer", "specialist", "leader")
PAGE_SIZE = 20
# Forms 05 (process control) and 06 (tracking book) exist for every dossier; 01-04 where an event gave them.
OFFICER_FORMS = ("01", "02", "03", "04", "05", "06")
CHANNELS = ("online", "in_person", "post")


class NotAnOfficer(Exception):
    pass


async def officer_page(page: SignedInPage) -> Page:
    if not OFFICER_ROLES_VALUES.intersection(page.user.roles) or not page.user.agency:
        raise NotAnOfficer()
    return page


async def participant_page(page: SignedInPage) -> Page:
    """An officer's, or an appraisal council member's (the dossiers of their councils, their review), page."""
    if not PARTICIPANT_ROLES.intersection(page.user.roles) or not page.user.agency:
        raise NotAnOfficer()
    return page


def council_only(page: Page) -> bool:
    """A council member who is not staff of the agency: they see their councils' dossiers and give their review."""
    return page.user is not None and not OFFICER_ROLES_VALUES.intersection(page.user.roles)


OFFICER_ROLES_VALUES = frozenset(r.value for r in OFFICER_ROLES)
PARTICIPANT_ROLES = OFFICER_ROLES_VALUES | {"council_member"}
OfficerPage = Annotated[Page, Depends(officer_page)]
ParticipantPage = Annotated[Page, Depends(participant_page)]


def desk_clock(task: dict[str, Any], *, page: Page) -> Clock:
    """The legal clock of a task as review gives it, read as the applicant's page reads intake's dossier."""
    unit = DeadlineUnit(task.get("deadline_unit") or DeadlineUnit.WORKING_DAYS)
    dossier = {
        "status": {"code": task["status_code"]},
        "due_at": task.get("due_at"),
        "status_since": task.get("paused_at"),
        "clock_paused": task.get("clock_paused"),
        "supplement_request": {"purpose": "revision"} if task.get("revision_due_at") else {},
    }
    return legal_clock(dossier, unit, now=bson_now(), calendar=page.portal.calendar, side="agency")


def desk_router() -> APIRouter:
    router = APIRouter()

    @router.get("/can-bo", response_class=HTMLResponse)
    async def queue(
        page: ParticipantPage,
        vai: str = "",
        thu_tuc: Annotated[str, Query(max_length=40)] = "",
        trang_thai: Annotated[str, Query(max_length=2)] = "",
        nguoi_xu_ly: Annotated[str, Query(max_length=200)] = "",
        qua_han: str = "",
        kenh: str = "",
        tim: Annotated[str, Query(max_length=100)] = "",
        trang: int = 1,
    ) -> HTMLResponse:
        token = await page.token()
        if council_only(page):
            return await _councils(page, token)
        mine = [r for r in DESK_ROLES if r in page.user.roles]
        role = vai if vai in DESK_ROLES else (mine[0] if mine else DESK_ROLES[0])
        number = max(1, min(trang, 500))
        params: dict[str, Any] = {"role": role, "page": number, "page_size": PAGE_SIZE}
        filters = {"thu_tuc": thu_tuc, "trang_thai": trang_thai, "nguoi_xu_ly": nguoi_xu_ly, "qua_han": qua_han}
        filters["kenh"] = kenh if kenh in CHANNELS else ""
        filters["tim"] = tim.strip()
        if thu_tuc:
            params["procedure"] = thu_tuc
        if trang_thai.isdigit() and 1 <= int(trang_thai) <= 10:
            params["status"] = int(trang_thai)
        if nguoi_xu_ly:
            params["assignee"] = nguoi_xu_ly
        if qua_han == "1":
            params["overdue"] = "true"
        if filters["kenh"]:
            params["channel"] = filters["kenh"]
        if filters["tim"]:
            params["q"] = filters["tim"]
        answer, counts, procedures, officers = await asyncio.gather(
            page.portal.api.tasks(token, params),
            page.portal.api.task_counts(token),
            page.portal.catalog.summaries(),
            _officers(page, page.user.agency),
        )
        people = {o.id: o.name for o in officers}
        rows = await _task_rows(page, answer["items"], people)
        specialists = sorted((o for o in officers if "specialist" in o.roles), key=lambda o: o.name)
        language = page.t.language
        return await page.render(
            "desk/queue.html",
            role=role,
            roles=mine,
            rows=rows,
            counts=counts,
            total=answer["total"],
            page_number=number,
            pages=max(1, -(-answer["total"] // PAGE_SIZE)),
            filters=filters,
            query=urlencode({"vai": role, **{k: v for k, v in filters.items() if v}}),
            procedure_options=[(c, page.t.pick(p["name_vi"], p["name_en"])) for c, p in sorted(procedures.items())],
            status_options=[(str(int(s)), status_label(s, language)) for s in PublicStatus],
            assignee_options=[(o.id, o.name) for o in specialists],
            channel_options=[(c, page.t(f"channel.{c}")) for c in CHANNELS],
        )

    @router.get("/can-bo/ho-so/{code}", response_class=HTMLResponse)
    async def dossier(page: ParticipantPage, code: str) -> HTMLResponse:
        return await render_desk_dossier(page, code)

    @router.post("/can-bo/ho-so/{code}/xu-ly", response_class=HTMLResponse, response_model=None)
    async def act(page: ParticipantPage, code: str) -> Response:
        if not re.fullmatch(CODE, code):
            return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
        form = await page.form()
        token = await page.token()
        current = await page.portal.api.workflow_dossier(token, code)
        name = str(form.get("action") or "")
        offered = {a["name"]: a for a in current["action_forms"]}
        if name not in offered:
            return await render_desk_dossier(page, code, status_code=409, changed="desk.action_gone")
        given = read_action(offered[name], form, page.t, page.portal.calendar_zone)
        if given.errors:
            return await _refused(page, code, given, form, given.errors, 422)
        if given.body.get("assignee_id"):
            # The forms name the assignee as the agency's directory does.
            people = {o.id: o.name for o in await _officers(page, page.user.agency or "")}
            if people.get(given.body["assignee_id"]):
                given.body["assignee_name"] = people[given.body["assignee_id"]]
        try:
            result = await page.portal.api.act(token, code, given.body, request_id=page.request.state.request_id)
        except ApiProblem as problem:
            if problem.status == 409 and problem.title != "Not possible yet":
                # Another officer acted first: the page as it is now, with what this officer had typed.
                return await render_desk_dossier(page, code, status_code=409, changed="desk.changed_meanwhile")
            return await _refused(page, code, given, form, problem_errors(problem, page.t), problem.status)
        done = f"{name}.granted" if offered[name].get("granted_by") else name  # no apology when the law grants it
        pin = {"pin": result["tracking_pin"]} if result.get("tracking_pin") else {}
        await page.tell(code, done, **pin)
        return page.redirect(f"/can-bo/ho-so/{code}#ket-qua")

    @router.post("/can-bo/ho-so/{code}/tin-nhan", response_class=HTMLResponse, response_model=None)
    async def write(page: OfficerPage, code: str) -> Response:
        if not re.fullmatch(CODE, code):
            return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
        token = await page.token()
        errors, typed = await messages.send(page, token, code)
        if errors:
            return await render_desk_dossier(page, code, errors=errors, status_code=422, typed=typed)
        await page.tell(code, "message")
        return page.redirect(f"/can-bo/ho-so/{code}#trao-doi")

    @router.get("/can-bo/ho-so/{code}/bieu-mau/{form}.pdf", response_model=None)
    async def form_pdf(page: OfficerPage, code: str, form: str) -> Response:
        if form not in OFFICER_FORMS or not re.fullmatch(CODE, code):
            return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
        return await download(page, f"/api/v1/records/dossiers/{code}/forms/{form}.pdf")

    return router


async def _officers(page: Page, agency: str) -> list[Officer]:
    """The agency's officers; none when the directory cannot be read (the desk then shows account ids)."""
    try:
        return await page.portal.directory.officers(agency)
    except DirectoryUnavailable:
        return []


async def _task_rows(
    page: Page, tasks: list[dict[str, Any]], people: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The rows of the desk's table of dossiers (templates/desk/_tasks.html), with whom each is assigned to by name."""
    return [
        {
            "task": task,
            "clock": desk_clock(task, page=page),
            "procedure_name": await page.portal.catalog.name(task["procedure_code"], page.t.language),
            "assignee": (people or {}).get(task.get("assignee_id") or "", task.get("assignee_id")),
        }
        for task in tasks
    ]


async def _councils(page: Page, token: str) -> HTMLResponse:
    """A council member's desk: the open dossiers of the councils they sit on."""
    answer = await page.portal.api.councils(token)
    rows = await _task_rows(page, answer["items"])
    return await page.render("desk/councils.html", rows=rows, total=answer["total"])


async def _nothing() -> None:
    return None


async def _or_none(call: Awaitable[dict[str, Any]]) -> dict[str, Any] | None:
    """The API's answer, or None where it has no such dossier (404, or a code it does not accept: 422)."""
    try:
        return await call
    except ApiProblem as problem:
        if problem.status in (404, 422):
            return None
        raise


async def _refused(
    page: Page, code: str, given: ActionInput, form: FormData, errors: FormErrors, status: int
) -> HTMLResponse:
    typed = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"}
    return await render_desk_dossier(page, code, errors=errors, status_code=status, typed=typed, open_action=given.name)


async def render_desk_dossier(
    page: Page,
    code: str,
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    open_action: str = "",
    changed: str = "",
) -> HTMLResponse:
    """The dossier as an officer sees it; `changed`: the message saying why it is shown afresh instead of acted on."""
    if not re.fullmatch(CODE, code):
        return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
    token = await page.token()
    # A council member reads the dossier, its files and its workflow; the record, the forms and the messages between
    # the applicant and the agency are the agency's.
    member = council_only(page)
    workflow, filed, timeline, names, thread = await asyncio.gather(
        _or_none(page.portal.api.workflow_dossier(token, code)),
        _or_none(page.portal.api.dossier(token, code)),
        _nothing() if member else _or_none(page.portal.api.timeline(token, code)),  # none yet: records has not heard
        page.portal.directory.names(),
        _nothing() if member else messages.open_thread(page, token, code),  # opening it is reading the messages
    )
    if filed is None:
        # Not in the officer's agency (review and intake answer 404 alike), or no such dossier.
        return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
    if workflow is None:
        # Just registered: intake has it, review opens it a moment later. The page looks again by itself.
        return await page.render("desk/opening.html", code=code)
    entries: list[dict[str, Any]] = timeline["entries"] if timeline else []
    submitted = datetime.fromisoformat(filed["submitted_at"])
    day: date = submitted.astimezone(page.portal.calendar_zone).date()
    version = await page.portal.catalog.version_on(filed["procedure_code"], day)
    forms = forms_given(entries)
    if entries:
        forms += ["05", "06"]
    notice = await page.take_notice(code)
    specialists: list[Officer] = []
    council_members: list[Officer] = []
    kinds = {f["kind"] for a in workflow["action_forms"] for f in a["fields"]}
    if kinds & {"officer", "council"}:
        # With the directory down the assignee, or a council member's account, is typed instead.
        people = await _officers(page, workflow["agency_code"])
        specialists = [o for o in people if "specialist" in o.roles]
        council_members = [o for o in people if "council_member" in o.roles]
    return await page.render(
        "desk/dossier.html",
        status_code=status_code,
        errors=errors,
        workflow=workflow,
        dossier=filed,
        version=version,
        procedure_name=page.t.pick(version["name_vi"], version["name_en"]),
        clock=desk_clock(workflow, page=page),
        names=names,
        forms=forms,
        values=typed or {},
        open_action=open_action,
        changed=changed,
        notice=notice,
        assignee_options=[(o.id, o.name) for o in specialists],
        council_accounts=[(o.id, o.name) for o in council_members],
        thread=thread,
    )
