"""The statistics dashboard of an agency: the report's columns for a period and procedure, the on-time rate, and
the charts a leader reads at a glance (received and resolved per month, on-time rate over time, overdue dossiers by
procedure and by assignee), with the same figures as CSV and Excel.

Every figure comes from the platform's API for the same query: the table and the months of the charts are records'
statistics for the period (with the total of each month it touches), and the overdue dossiers are review's queue of
the agency now. Nothing is counted here that the API did not count.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from portal.applicant.dossiers import download
from portal.desk import charts
from portal.desk.routes import OfficerPage
from portal.web import FormErrors, Page

MAX_DAYS = 731
COLUMNS = (
    "carried_over",
    "received",
    "received_online",
    "received_in_person",
    "received_post",
    "to_process",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "rejected",
    "withdrawn",
    "in_progress_not_yet_due",
    "in_progress_overdue",
    "awaiting_supplement",
    "awaiting_revision",
    "awaiting_fee",
    "ratings",
)


def period_of(page: Page, tu: str, den: str) -> tuple[date, date, FormErrors]:
    """The period asked for (this year so far when nothing is given), or what is wrong with it."""
    today = datetime.now(page.portal.calendar_zone).date()
    errors = FormErrors()
    start, end = date(today.year, 1, 1), today
    try:
        start = date.fromisoformat(tu) if tu else start
    except ValueError:
        errors.add("tu", page.t("stats.bad_date"))
    try:
        end = date.fromisoformat(den) if den else end
    except ValueError:
        errors.add("den", page.t("stats.bad_date"))
    if not errors and end < start:
        errors.add("den", page.t("stats.end_before_start"))
    if not errors and (end - start).days > MAX_DAYS:
        errors.add("den", page.t("stats.too_long", days=MAX_DAYS))
    return start, end, errors


def dashboard_router() -> APIRouter:
    router = APIRouter()

    @router.get("/can-bo/thong-ke", response_class=HTMLResponse)
    async def dashboard(
        page: OfficerPage,
        tu: Annotated[str, Query(max_length=10)] = "",
        den: Annotated[str, Query(max_length=10)] = "",
        thu_tuc: Annotated[str, Query(max_length=40)] = "",
    ) -> HTMLResponse:
        token = await page.token()
        start, end, errors = period_of(page, tu, den)
        summaries = await page.portal.catalog.summaries()
        procedure = thu_tuc if thu_tuc in summaries else ""
        context: dict[str, Any] = {
            "filters": {"tu": tu or start.isoformat(), "den": den or end.isoformat(), "thu_tuc": procedure},
            "procedure_options": [(c, page.t.pick(p["name_vi"], p["name_en"])) for c, p in sorted(summaries.items())],
            "columns": COLUMNS,
        }
        if errors:
            return await page.render("desk/dashboard.html", status_code=422, errors=errors, **context)
        base = {"procedure": procedure} if procedure else {}
        whole, overdue = await asyncio.gather(
            page.portal.api.stats(token, {"from": start.isoformat(), "to": end.isoformat(), **base}),
            _overdue(page, token, procedure),
        )
        names = await page.portal.directory.names()
        monthly = whole["months"]
        labels = [f"{m['month'][5:]}/{m['month'][:4]}" for m in monthly]
        received = [m["total"]["received"] for m in monthly]
        resolved = [
            m["total"]["resolved_early"] + m["total"]["resolved_on_time"] + m["total"]["resolved_late"] for m in monthly
        ]
        by_procedure: dict[str, int] = {}
        by_assignee: dict[str, int] = {}
        for task in overdue:
            name = await page.portal.catalog.name(task["procedure_code"], page.t.language)
            by_procedure[name] = by_procedure.get(name, 0) + 1
            who = names.get(task.get("assignee_id") or "", task.get("assignee_id") or page.t("stats.unassigned"))
            by_assignee[who] = by_assignee.get(who, 0) + 1
        context.update(
            stats=whole,
            procedure_names={c: page.t.pick(p["name_vi"], p["name_en"]) for c, p in summaries.items()},
            monthly=list(zip(labels, received, resolved, [m["total"]["on_time_rate"] for m in monthly], strict=True)),
            by_procedure=sorted(by_procedure.items(), key=lambda kv: (-kv[1], kv[0])),
            by_assignee=sorted(by_assignee.items(), key=lambda kv: (-kv[1], kv[0])),
            charts={
                "received": charts.received_and_resolved(
                    page.t("stats.chart_received"),
                    labels,
                    {page.t("stats.received"): received, page.t("stats.resolved"): resolved},
                ),
                "rate": charts.rate_over_time(
                    page.t("stats.chart_rate"),
                    labels,
                    page.t("stats.on_time_rate"),
                    [m["total"]["on_time_rate"] for m in monthly],
                ),
                "by_procedure": charts.counts_by(page.t("stats.chart_overdue_procedure"), "", by_procedure),
                "by_assignee": charts.counts_by(page.t("stats.chart_overdue_assignee"), "", by_assignee),
            },
            query=f"from={start.isoformat()}&to={end.isoformat()}" + (f"&procedure={procedure}" if procedure else ""),
        )
        return await page.render("desk/dashboard.html", **context)

    @router.get("/can-bo/thong-ke.{kind}", response_model=None)
    async def export(
        page: OfficerPage,
        kind: str,
        tu: Annotated[str, Query(max_length=10)] = "",
        den: Annotated[str, Query(max_length=10)] = "",
        thu_tuc: Annotated[str, Query(max_length=40, pattern=r"^[A-Za-z0-9_.-]*$")] = "",
        theo: Annotated[str, Query(max_length=10)] = "",
    ) -> Response:
        start, end, errors = period_of(page, tu, den)
        if kind not in ("csv", "xlsx") or theo not in ("", "thang") or errors:
            return await page.render("error.html", status_code=404, message=page.t("error.not_found"))
        query = f"from={start.isoformat()}&to={end.isoformat()}" + (f"&procedure={thu_tuc}" if thu_tuc else "")
        if theo == "thang" and kind == "csv":
            query += "&by=month"
        return await download(page, f"/api/v1/records/stats.{kind}?{query}")

    return router


async def _overdue(page: Page, token: str, procedure: str) -> list[dict[str, Any]]:
    """The agency's overdue dossiers now (review's queue, every page of it up to 1,000)."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"overdue": "true", "page_size": 100} | ({"procedure": procedure} if procedure else {})
    for number in range(1, 11):
        answer = await page.portal.api.tasks(token, params | {"page": number})
        found += answer["items"]
        if len(found) >= answer["total"] or not answer["items"]:
            break
    return found
