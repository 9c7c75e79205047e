"""Records' HTTP API: the dossier timeline and its audit, and public tracking."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from hoso.auth import OFFICER_ROLES, Principal, Role, current_principal
from hoso.mongo import Document
from hoso.pins import hash_pin, verify_pin
from hoso.problems import Problem
from records.domain.chain import audit
from records.repository import RecordsRepository, entry_of
from records.schemas import AuditOut, TimelineEntryOut, TimelineOut, TrackingOut

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


# Compared against when the code is unknown or has no PIN yet, so that every wrong answer costs the same time.
_DECOY_HASH = hash_pin("00000000")


class NoSuchDossier(Problem):
    def __init__(self) -> None:
        super().__init__(404, "Not found", "no dossier with this code and PIN")


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
