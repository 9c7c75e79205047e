"""Erasing a dossier's personal data where records keeps it, and telling the services that keep copies.

What is erased: the values kept beside the chain (`personal_data`: the applicant's e-mail, phone and address, a
citizen's name) with the salt of their digests, and the name the summary repeats for a citizen. The timeline is not
touched: its entries hold only digests, so every audit stays valid. The erasure is a timeline entry of its own
(`dossier.personal_data_erased`: what, why, who, when; nothing personal), published through the outbox so that intake
erases its copy. An archive package handed over before the erasure stays with the archive, which keeps it under the
law on archives.
"""

from __future__ import annotations

from datetime import datetime

from hoso.auth import Principal
from hoso.events import EventType, new_event
from hoso.events.catalog import DossierPersonalDataErased
from hoso.mongo import Document
from hoso.topics import DOSSIER_EVENTS
from records.repository import RecordsRepository

SERVICE = "records"


async def erase_personal_data(
    repo: RecordsRepository, summary: Document, *, reason: str, actor: Principal, now: datetime
) -> tuple[Document, bool]:
    """Erase the dossier's personal data once: (the erasure record, whether it was done now)."""
    dossier_id = summary["_id"]
    kept = await repo.personal_data(dossier_id)
    if kept is not None and kept.get("erased_at") is not None:
        return kept, False
    erased = sorted(pair["path"] for pair in (kept or {}).get("values") or [])
    citizen = summary.get("applicant_kind") != "organisation"
    if citizen and summary.get("applicant_name") and "applicant.name" not in erased:
        erased = sorted([*erased, "applicant.name"])
    data = DossierPersonalDataErased(
        dossier_id=dossier_id,
        dossier_code=summary["code"],
        erased=erased,
        reason=reason,
        actor_id=actor.subject,
        erased_at=now,
    )
    event = new_event(EventType.DOSSIER_PERSONAL_DATA_ERASED, data, service=SERVICE, time=now)
    erasure = {
        "dossier_code": summary["code"],
        "erased_at": now,
        "erasure": {"reason": reason, "actor_id": actor.subject, "erased": erased, "event_id": event.id},
    }
    await repo.erase_personal(dossier_id, erasure, {"applicant_name": ""} if citizen else {}, [(DOSSIER_EVENTS, event)])
    return erasure, True
