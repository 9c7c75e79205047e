"""Intake's HTTP API for applicants: parse, authorise, call a handler, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status

from hoso.auth import Principal, Role, require_roles
from hoso.outbox import OutboxRelay
from hoso.problems import Problem
from intake.handlers import submit_dossier
from intake.repository import DossierRepository
from intake.schemas import DossierOut, DossierPage, SubmitDossier

Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="A client-chosen key; a retried request with the same key returns the same dossier",
    ),
]


def dossier_router(repo: DossierRepository, relay: OutboxRelay, *, timezone: str) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["dossiers"])

    @router.post(
        "/dossiers",
        status_code=status.HTTP_201_CREATED,
        response_model=DossierOut,
        summary="Submit a dossier",
        responses={200: {"model": DossierOut, "description": "The dossier this Idempotency-Key created before"}},
    )
    async def post_dossier(
        body: SubmitDossier, principal: Applicant, key: IdempotencyKey, request: Request, response: Response
    ) -> DossierOut:
        submission = await submit_dossier(
            repo,
            relay,
            applicant=principal,
            command=body,
            idempotency_key=key,
            correlation_id=request.state.correlation_id,
            timezone=timezone,
        )
        if not submission.created:
            response.status_code = status.HTTP_200_OK
        response.headers["Location"] = f"/api/v1/dossiers/{submission.dossier['code']}"
        return DossierOut.of(submission.dossier)

    @router.get("/dossiers", response_model=DossierPage, summary="List my dossiers")
    async def list_dossiers(
        principal: Applicant,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> DossierPage:
        docs = await repo.list_for_applicant(principal.subject, skip=offset, limit=limit)
        return DossierPage(items=[DossierOut.of(d) for d in docs], offset=offset, limit=limit)

    @router.get("/dossiers/{code}", response_model=DossierOut, summary="One of my dossiers")
    async def get_dossier(code: Annotated[str, Path(max_length=80)], principal: Applicant) -> DossierOut:
        doc = await repo.by_code(code)
        if doc is None or doc["applicant_id"] != principal.subject:
            raise Problem(404, "Not found", f"no dossier {code} of yours")
        return DossierOut.of(doc)

    return router
