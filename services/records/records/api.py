"""Records' HTTP API: the dossier timeline and its audit, and public tracking."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from hoso_forms import FormCode, render_form

from hoso.auth import OFFICER_ROLES, Principal, Role, current_principal, require_roles
from hoso.events import PublicStatus
from hoso.mongo import Document, bson_now
from hoso.outbox import OutboxRelay
from hoso.pins import hash_pin, verify_pin
from hoso.problems import Problem
from records.domain.chain import audit
from records.domain.documents import dossier_forms
from records.domain.stats import XLSX, by_month, months_to_csv, performance, statistics, to_csv, to_xlsx
from records.privacy import erase_personal_data
from records.repository import RecordsRepository, entry_of
from records.schemas import (
    AuditOut,
    DossierSummaryOut,
    ErasureIn,
    ErasureOut,
    PerformanceOut,
    RatingIn,
    RatingOut,
    SearchPage,
    StatsOut,
    TimelineEntryOut,
    TimelineOut,
    TrackingOut,
)
from records.search import LOCAL, day_range, local_day_bounds, search_query, statistics_query
from records.settings import RecordsSettings

DossierCode = Annotated[str, Path(max_length=80, pattern=r"^[A-Z0-9.]+-\d{6}-\d{4}$")]


def may_read(principal: Principal, dossier: Document) -> bool:
    """Officers and admins of the dossier's agency, operations staff, and the applicant who owns it."""
    if principal.has_any(Role.OPS):
        return True
    if principal.has_any(*OFFICER_ROLES, Role.ADMIN) and principal.agency == dossier.get("agency_code"):
        return True
    return principal.has_any(Role.APPLICANT) and principal.subject == dossier.get("applicant_id")


Reader = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True)
class StatsPeriod:
    """The report's period (days in Vietnam time, both included) and its optional agency and procedure."""

    period_from: Annotated[date, Query(alias="from", description="First day, Vietnam time")]
    period_to: Annotated[date, Query(alias="to", description="Last day (inclusive)")]
    agency: Annotated[str | None, Query(max_length=40)] = None
    procedure: Annotated[str | None, Query(max_length=40)] = None


# The longest statistics period (ten years and a few days): its answer holds a total per month.
MAX_STATS_DAYS = 3660

Staff = Annotated[
    Principal, Depends(require_roles(Role.RECEPTION_OFFICER, Role.SPECIALIST, Role.LEADER, Role.ADMIN, Role.OPS))
]


def records_router(repo: RecordsRepository, settings: RecordsSettings, personal_relay: OutboxRelay) -> APIRouter:
    router = APIRouter(prefix="/api/v1/records", tags=["records"])

    async def readable_dossier(code: str, principal: Principal) -> Document:
        dossier = await repo.dossier_by_code(code)
        if dossier is None or not may_read(principal, dossier):
            raise Problem(404, "Not found", f"no dossier {code} that you may read")
        return dossier

    @router.get("/dossiers/{code}/timeline", response_model=TimelineOut, summary="The dossier's timeline")
    async def get_timeline(
        code: DossierCode, principal: Annotated[Principal, Depends(current_principal)]
    ) -> TimelineOut:
        await readable_dossier(code, principal)
        docs = await repo.timeline_of(code)
        return TimelineOut(
            dossier_code=code, entries=[TimelineEntryOut.of(d) for d in docs], head=docs[-1]["hash"] if docs else None
        )

    @router.get("/dossiers/{code}/audit", response_model=AuditOut, summary="Recompute the timeline's hash chain")
    async def get_audit(code: DossierCode, principal: Annotated[Principal, Depends(current_principal)]) -> AuditOut:
        await readable_dossier(code, principal)
        docs = await repo.timeline_of(code)
        result = audit([entry_of(d) for d in docs])
        bad_id = None
        if result.first_invalid_sequence is not None:
            bad_id = next((d["_id"] for d in docs if d["sequence"] == result.first_invalid_sequence), None)
        return AuditOut(
            dossier_code=code,
            valid=result.valid,
            entries=result.entries,
            head=result.head,
            first_invalid_sequence=result.first_invalid_sequence,
            first_invalid_event_id=bad_id,
            problem=result.problem,
        )

    @router.post(
        "/dossiers/{code}/personal-data/erasure",
        response_model=ErasureOut,
        summary="Erase the dossier's personal data (the agency's admins); the timeline and its audit stay valid",
    )
    async def erase(
        code: DossierCode,
        body: ErasureIn,
        principal: Annotated[Principal, Depends(require_roles(Role.ADMIN))],
    ) -> ErasureOut:
        dossier = await readable_dossier(code, principal)
        record, now = await erase_personal_data(repo, dossier, reason=body.reason, actor=principal, now=bson_now())
        if now:
            personal_relay.wake(dossier["_id"])
        return ErasureOut.of(record, now=now)

    @router.get("/dossiers", response_model=SearchPage, summary="Search dossiers (officers: own agency)")
    async def search(
        principal: Staff,
        code: Annotated[str | None, Query(max_length=80)] = None,
        applicant: Annotated[str | None, Query(max_length=200, description="Applicant id, or part of the name")] = None,
        procedure: Annotated[str | None, Query(max_length=40)] = None,
        agency: Annotated[str | None, Query(max_length=40)] = None,
        status: Annotated[list[PublicStatus] | None, Query()] = None,
        overdue: bool | None = None,
        submitted_from: date | None = None,
        submitted_to: date | None = None,
        received_from: date | None = None,
        received_to: date | None = None,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> SearchPage:
        scope = agency_scope(principal, agency)
        now = bson_now()
        query = search_query(
            agency=scope,
            code=code,
            applicant=applicant,
            procedure=procedure,
            statuses=[int(s) for s in status or []],
            overdue=overdue,
            submitted=day_range("submitted", submitted_from, submitted_to),
            received=day_range("received", received_from, received_to),
            now=now,
        )
        docs, total = await repo.search(query, skip=(page - 1) * page_size, limit=page_size)
        return SearchPage(
            items=[DossierSummaryOut.of(d, now) for d in docs], page=page, page_size=page_size, total=total
        )

    async def statistics_of(principal: Principal, period: StatsPeriod) -> StatsOut:
        scope = agency_scope(principal, period.agency)
        if (period.period_to - period.period_from).days >= MAX_STATS_DAYS:
            raise Problem(
                422, "Invalid request", f"a statistics period is at most {MAX_STATS_DAYS} days",
                errors=[{"field": "to", "message": f"must be less than {MAX_STATS_DAYS} days after `from`"}],
            )  # fmt: skip
        start, end = local_day_bounds(period.period_from, period.period_to)
        query = statistics_query(start, end, agency=scope, procedure=period.procedure)
        summaries = await repo.for_statistics(query)
        if len(summaries) > settings.stats_max_dossiers:
            raise Problem(422, "Too much data", "narrow the statistics to an agency, a procedure or a shorter period")
        rated = {k: v for k, v in query.items() if k in ("agency_code", "procedure_code")}
        rated["at"] = {"$gte": start, "$lt": end}
        ratings = await repo.ratings_between(rated)
        rows, total = statistics(summaries, start, end, ratings)
        months = by_month(summaries, ratings, period.period_from, period.period_to, LOCAL)
        return StatsOut(
            period_from=period.period_from,
            period_to=period.period_to,
            agency_code=scope,
            rows=rows,
            total=total,
            months=months,
        )

    @router.get("/stats", response_model=StatsOut, summary="Statistics per agency and procedure for a period")
    async def stats(principal: Staff, period: Annotated[StatsPeriod, Depends()]) -> StatsOut:
        return await statistics_of(principal, period)

    @router.get("/stats.csv", summary="The same statistics as CSV", response_class=Response)
    async def stats_csv(
        principal: Staff,
        period: Annotated[StatsPeriod, Depends()],
        by: Annotated[
            Literal["procedure", "month"],
            Query(description="procedure: a line per agency and procedure and the total; month: a month's total"),
        ] = "procedure",
    ) -> Response:
        out = await statistics_of(principal, period)
        suffix = "-theo-thang" if by == "month" else ""
        name = f"hoso-stats-{period.period_from.isoformat()}-{period.period_to.isoformat()}{suffix}.csv"
        return Response(
            months_to_csv(out.months) if by == "month" else to_csv(out.rows, out.total),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get(
        "/stats.xlsx",
        summary="The same statistics as an Excel workbook",
        response_class=Response,
        responses={200: {"content": {XLSX: {}}}},
    )
    async def stats_xlsx(principal: Staff, period: Annotated[StatsPeriod, Depends()]) -> Response:
        out = await statistics_of(principal, period)
        name = f"hoso-stats-{period.period_from.isoformat()}-{period.period_to.isoformat()}.xlsx"
        return Response(
            await asyncio.to_thread(to_xlsx, out.rows, out.total, period.period_from, period.period_to, out.months),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get("/dossiers/{code}/rating", response_model=RatingOut, summary="The applicant's rating of the service")
    async def get_rating(code: DossierCode, principal: Reader) -> RatingOut:
        dossier = await readable_dossier(code, principal)
        rating = await repo.rating_of(dossier["_id"])
        if rating is None:
            raise Problem(404, "Not found", f"dossier {code} has not been rated")
        return RatingOut.of(code, rating)

    @router.post(
        "/dossiers/{code}/rating",
        status_code=201,
        response_model=RatingOut,
        summary="Rate the service once the result is returned (the dossier's applicant, once)",
        responses={409: {"description": "rated before, or no result returned yet"}},
    )
    async def rate(code: DossierCode, body: RatingIn, principal: Reader) -> RatingOut:
        dossier = await readable_dossier(code, principal)
        if not (principal.has_any(Role.APPLICANT) and principal.subject == dossier.get("applicant_id")):
            raise Problem(403, "Not permitted", "only the dossier's applicant rates the service")
        if dossier.get("outcome") != "returned":
            raise Problem(
                409,
                "Not possible yet",
                "the service is rated once its result is returned",
                status_code=dossier["status_code"],
            )
        rating = {
            "_id": dossier["_id"],
            "code": code,
            "agency_code": dossier["agency_code"],
            "procedure_code": dossier["procedure_code"],
            "score": body.score,
            "comment": body.comment,
            "at": bson_now(),
        }
        if not await repo.add_rating(rating):
            raise Problem(409, "Rated before", f"dossier {code} was rated before; a rating is given once")
        return RatingOut.of(code, rating)

    @router.get(
        "/dossiers/{code}/forms/{form}.pdf",
        summary="A form of Circular 01/2018 for the dossier (01-06)",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
    )
    async def get_form(code: DossierCode, form: FormCode, principal: Reader) -> Response:
        dossier = await readable_dossier(code, principal)
        contact = await repo.contact_of(dossier["_id"])
        forms = dossier_forms(dossier, await repo.timeline_of(code), contact)
        if form not in forms:
            raise Problem(404, "Not found", f"dossier {code} has no form {form.value}: no event of it gave one")
        return Response(
            await asyncio.to_thread(render_form, forms[form]),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="Mau-{form.value}-{code}.pdf"'},
        )

    @router.get(
        "/dossiers/{code}/archive",
        summary="The archive package of an ended dossier (ZIP)",
        response_class=Response,
        responses={200: {"content": {"application/zip": {}}}},
    )
    async def get_archive(code: DossierCode, principal: Reader) -> Response:
        dossier = await readable_dossier(code, principal)
        package = await repo.package(dossier["_id"])
        if package is None:
            raise Problem(404, "Not found", f"dossier {code} has no archive package yet (it is built once it ends)")
        archive = await repo.archive_of(dossier["_id"])
        headers = {
            "Content-Disposition": f'attachment; filename="{code}.zip"',
            "X-Hoso-Package-SHA256": package["sha256"],
            "X-Hoso-Archive-State": (archive or {}).get("state", "pending"),
        }
        return Response(bytes(package["content"]), media_type="application/zip", headers=headers)

    return router


def agency_scope(principal: Principal, agency: str | None) -> str | None:
    """The agency a search or report covers: officers their own; ops and admins any (None: all)."""
    if principal.has_any(Role.OPS) or (principal.has_any(Role.ADMIN) and principal.agency is None):
        return agency
    if agency is not None and agency != principal.agency:
        raise Problem(403, "Not permitted", "officers see the dossiers of their own agency only")
    if principal.agency is None:
        raise Problem(403, "Not permitted", "the token names no agency")
    return principal.agency


# Compared against when the code is unknown or has no PIN yet, so that every wrong answer costs the same time.
_DECOY_HASH = hash_pin("00000000")


class NoSuchDossier(Problem):
    def __init__(self) -> None:
        super().__init__(404, "Not found", "no dossier with this code and PIN")


def performance_router(repo: RecordsRepository, settings: RecordsSettings) -> APIRouter:
    """How each procedure is served, for anyone (no sign-in): the figures behind the public performance page."""
    router = APIRouter(prefix="/api/v1/records", tags=["performance"])

    @router.get("/performance", response_model=PerformanceOut, summary="On-time rate, processing time and ratings")
    async def get_performance(
        procedure: Annotated[str | None, Query(max_length=40)] = None,
        months: Annotated[int, Query(ge=1, le=36, description="The window: the last N months")] = 12,
    ) -> PerformanceOut:
        now = bson_now()
        start = now - timedelta(days=round(months * 30.44))
        query: Document = {"finished_at": {"$gte": start}}
        rated: Document = {"at": {"$gte": start}}
        if procedure is not None:
            query["procedure_code"] = rated["procedure_code"] = procedure
        summaries, ratings = await asyncio.gather(repo.for_statistics(query), repo.ratings_between(rated))
        rows = performance(summaries, ratings, settings.calendar, start)
        return PerformanceOut(since=start, months=months, procedures=rows)

    return router


def tracking_router(repo: RecordsRepository) -> APIRouter:
    """Public tracking: the dossier code and the PIN from the receipt; rate limited per client at the gateway."""
    router = APIRouter(prefix="/api/v1/tracking", tags=["tracking"])

    @router.get("/{code}", response_model=TrackingOut, summary="Public status of a dossier (code and PIN)")
    async def track(
        code: Annotated[str, Path(max_length=80)],
        pin: Annotated[str, Query(min_length=1, max_length=20, description="The PIN on the receipt")],
    ) -> TrackingOut:
        summary = await repo.dossier_by_code(code)
        stored = (summary or {}).get("tracking_pin_hash")
        matches = await asyncio.to_thread(verify_pin, pin, stored or _DECOY_HASH)
        if summary is None or stored is None or not matches:
            raise NoSuchDossier()
        return TrackingOut.of(summary, await repo.timeline_of(code))

    return router
