"""Review's HTTP API for officers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from hoso.auth import Principal, Role, require_roles
from hoso.problems import Problem
from review.repository import WorkflowRepository
from review.schemas import WorkflowOut

Officer = Annotated[Principal, Depends(require_roles(Role.RECEPTION_OFFICER, Role.SPECIALIST, Role.LEADER))]


def review_router(repo: WorkflowRepository) -> APIRouter:
    router = APIRouter(prefix="/api/v1/review", tags=["review"])

    @router.get("/dossiers/{code}", response_model=WorkflowOut, summary="A dossier's workflow (own agency only)")
    async def get_dossier(code: Annotated[str, Path(max_length=80)], officer: Officer) -> WorkflowOut:
        doc = await repo.by_code(code)
        if doc is None or doc["agency_code"] != officer.agency:
            raise Problem(404, "Not found", f"no dossier {code} in your agency")
        return WorkflowOut.of(doc)

    return router
