"""Records' HTTP API: the dossier timeline and its audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from hoso.auth import OFFICER_ROLES, Principal, Role, current_principal
from hoso.mongo import Document
from hoso.problems import Problem
from records.domain.chain import audit
from records.repository import RecordsRepository, entry_of
from records.schemas import AuditOut, TimelineEntryOut, TimelineOut

DossierCode = Annotated[str, Path(max_length=80, pattern=r"^[A-Z0-9.]+-\d{6}-\d{4}$")]


def may_read(principal: Principal, dossier: Document) -> bool:
    """Officers and admins of the dossier's agency, operations staff, and the applicant who owns it."""
    if principal.has_any(Role.OPS):
        return True
    if principal.has_any(*OFFICER_ROLES, Role.ADMIN) and principal.agency == dossier.get("agency_code"):
        return True
    return principal.has_any(Role.APPLICANT) and principal.subject == dossier.get("applicant_id")


def records_router(repo: RecordsRepository) -> APIRouter:
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

    return router
