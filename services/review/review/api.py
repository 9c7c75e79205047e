"""Review's HTTP API for officers: workflows, dossiers, actions and task queues."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request

from hoso.auth import Principal, Role, require_roles
from hoso.http import CORRELATION_ID_HEADER
from hoso.mongo import Document, bson_now
from hoso.problems import Problem
from hoso.steps import Step
from review.domain.definition import ActionName
from review.domain.engine import ActionRefused, ActionRequest, Decision, Refusal, council_seat, decide_action
from review.handlers import Review
from review.queue import TaskFilter, TaskQueue
from review.schemas import ActionResult, DossierOut, TaskCounts, TaskOut, TaskPage, WorkflowsOut, clock_of

Officer = Annotated[Principal, Depends(require_roles(Role.RECEPTION_OFFICER, Role.SPECIALIST, Role.LEADER))]
# A council member who is not staff of the agency sees and acts on the dossiers whose council they sit on, no other.
Participant = Annotated[
    Principal,
    Depends(require_roles(Role.RECEPTION_OFFICER, Role.SPECIALIST, Role.LEADER, Role.COUNCIL_MEMBER)),
]
Staff = Annotated[Principal, Depends(require_roles(Role.RECEPTION_OFFICER, Role.SPECIALIST, Role.LEADER, Role.ADMIN))]
Code = Annotated[str, Path(max_length=80, pattern=r"^[A-Za-z0-9.\-]+$")]


# How the HTTP edge answers each of the workflow's refusals.
REFUSAL_STATUS = {
    Refusal.NOT_PERMITTED: 403,
    Refusal.WRONG_STATE: 409,
    Refusal.CHANGED_MEANWHILE: 409,
    Refusal.INVALID: 422,
}


def refusal_problem(refused: ActionRefused) -> Problem:
    """The problem+json answer of a refused action: its status, title, detail, fields at fault and facts."""
    status = REFUSAL_STATUS[refused.refusal]
    return Problem(status, refused.title, refused.detail, errors=refused.errors, **refused.facts)


class DossierNotFound(Problem):
    def __init__(self, code: str) -> None:
        super().__init__(404, "Not found", f"no dossier {code} in your agency")


def review_router(review: Review) -> APIRouter:
    router = APIRouter(prefix="/api/v1/review", tags=["review"])
    repo = review.repo
    queue = TaskQueue(repo)

    async def own(code: str, officer: Principal) -> Document:
        doc = await repo.by_code(code)
        if doc is None or doc["agency_code"] != officer.agency:
            raise DossierNotFound(code)
        staff = officer.has_any(Role.RECEPTION_OFFICER, Role.SPECIALIST, Role.LEADER)
        if not staff and council_seat(doc, officer.subject) is None:
            raise DossierNotFound(code)  # a council member sees the councils they sit on
        return doc

    async def render(doc: Document, officer: Principal) -> DossierOut:
        definition = review.definition(doc["workflow_id"])
        officer_roles = {r.value for r in officer.roles}
        available = [
            definition.action_form(a, legal_time_limit=doc.get("deadline") is not None)
            for a in definition.actions_in(doc["state"])
            if officer_roles.intersection(definition.actions[a.value].roles)
        ]
        return DossierOut.build(
            doc,
            now=bson_now(),
            calendar=review.settings.calendar,
            lead=review.settings.due_soon_lead,
            labels=review.state_labels(doc),
            available=available,
            history=await repo.history(doc),
        )

    @router.get("/workflows/{procedure_code}", response_model=WorkflowsOut, summary="Workflow definitions in use")
    async def get_workflows(procedure_code: Annotated[str, Path(max_length=40)], _: Staff) -> WorkflowsOut:
        found = await repo.definitions_of(procedure_code)
        if not found:
            raise Problem(404, "Not found", f"no workflow is defined for procedure {procedure_code}")
        return WorkflowsOut(procedure_code=procedure_code, workflows=found)

    @router.get("/dossiers/{code}", response_model=DossierOut, summary="A dossier's workflow (own agency only)")
    async def get_dossier(code: Code, officer: Participant) -> DossierOut:
        return await render(await own(code, officer), officer)

    @router.post(
        "/dossiers/{code}/actions",
        response_model=ActionResult,
        summary="Act on a dossier: receive, refuse, assign, request supplement or fee, propose, decide, extend...",
        responses={403: {"description": "role or agency"}, 409: {"description": "not possible in this state"}},
    )
    async def act(
        code: Code, request: Request, body: Annotated[ActionRequest, Body()], officer: Participant
    ) -> ActionResult:
        doc = await own(code, officer)
        correlation_id = request.headers.get(CORRELATION_ID_HEADER) or getattr(request.state, "correlation_id", None)
        decisions: list[Decision] = []

        def decide(current: Document | None) -> Step:
            assert current is not None
            decision = decide_action(current, body, officer, review.context(current, correlation_id=correlation_id))
            decisions.append(decision)
            return decision.step

        try:
            updated, _ = await repo.transact(doc["_id"], decide)
        except ActionRefused as refused:
            raise refusal_problem(refused) from refused
        assert updated is not None
        pin = decisions[-1].tracking_pin if body.action is ActionName.RECEIVE else None
        return ActionResult(dossier=await render(updated, officer), tracking_pin=pin)

    @router.get("/tasks", response_model=TaskPage, summary="Work queue of the officer's agency, by due date")
    async def tasks(
        officer: Officer,
        agency: Annotated[str | None, Query(max_length=40)] = None,
        role: Annotated[Role | None, Query()] = None,
        assignee: Annotated[str | None, Query(max_length=200)] = None,
        status: Annotated[int | None, Query(ge=1, le=10)] = None,
        overdue: bool | None = None,
        procedure: Annotated[str | None, Query(max_length=40)] = None,
        channel: Annotated[Literal["online", "in_person", "post"] | None, Query()] = None,
        q: Annotated[
            str | None, Query(min_length=1, max_length=100, description="Part of the code or the name")
        ] = None,
        include_closed: bool = False,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> TaskPage:
        if agency is not None and agency != officer.agency:
            raise Problem(403, "Not permitted", "officers see the queues of their own agency only")
        if officer.agency is None:
            raise Problem(403, "Not permitted", "the token names no agency")
        now = bson_now()
        wanted = TaskFilter(
            agency=officer.agency,
            role=role.value if role else None,
            assignee=assignee,
            status=status,
            overdue=overdue,
            procedure=procedure,
            text=q,
            channel=channel,
            include_closed=include_closed,
        )
        docs, total = await queue.page(wanted, now, skip=(page - 1) * page_size, limit=page_size)
        calendar, lead = review.settings.calendar, review.settings.due_soon_lead
        items = [TaskOut.of(d, now, calendar, lead, review.state_labels(d)) for d in docs]
        return TaskPage(items=items, page=page, page_size=page_size, total=total)

    @router.get(
        "/councils",
        response_model=TaskPage,
        summary="The open dossiers whose appraisal council the caller sits on (council members), by due date",
    )
    async def councils(member: Participant) -> TaskPage:
        if member.agency is None:
            raise Problem(403, "Not permitted", "the token names no agency")
        now = bson_now()
        seated = [d for d in await queue.open_of_agency(member.agency) if council_seat(d, member.subject) is not None]
        seated.sort(key=lambda d: (d.get("due_at") is None, d.get("due_at") or now, d["code"]))
        calendar, lead = review.settings.calendar, review.settings.due_soon_lead
        items = [TaskOut.of(d, now, calendar, lead, review.state_labels(d)) for d in seated]
        return TaskPage(items=items, page=1, page_size=max(1, len(items)), total=len(items))

    @router.get("/tasks/counts", response_model=TaskCounts, summary="How many open dossiers wait on each role")
    async def task_counts(officer: Officer) -> TaskCounts:
        if officer.agency is None:
            raise Problem(403, "Not permitted", "the token names no agency")
        now = bson_now()
        docs = await queue.open_of_agency(officer.agency)
        calendar, lead = review.settings.calendar, review.settings.due_soon_lead
        by_role = {r.value: 0 for r in (Role.RECEPTION_OFFICER, Role.SPECIALIST, Role.LEADER)}
        counts = {"assigned_to_me": 0, "overdue": 0, "due_soon": 0, "paused": 0}
        for doc in docs:
            for role in doc.get("actionable_roles", []):
                if role in by_role:
                    by_role[role] += 1
            counts["assigned_to_me"] += doc.get("assignee_id") == officer.subject
            clock = clock_of(doc, now, calendar, lead)
            if clock in counts:
                counts[clock] += 1
        return TaskCounts(agency_code=officer.agency, by_role=by_role, open=len(docs), **counts)

    return router
