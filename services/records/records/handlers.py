"""Records' event handlers: append every dossier event once, in order, to its hash-chained timeline."""

from __future__ import annotations

from hoso.events import Envelope, EventType
from hoso.events.catalog import (
    DossierDeadlineExtended,
    DossierEventData,
    DossierProcessingResumed,
    DossierReceived,
    DossierSubmitted,
)
from hoso.mongo import Document, bson_now
from records.domain.chain import ChainEntry, link_after
from records.repository import RecordsRepository, SequenceTaken

_MAX_APPEND_ATTEMPTS = 20


async def record_event(repo: RecordsRepository, event: Envelope) -> None:
    """Append `event` to its dossier's timeline and update the dossier summary; both at most once."""
    payload = event.payload()
    assert isinstance(payload, DossierEventData)
    await _append_to_timeline(repo, event, payload)
    await repo.update_summary(payload.dossier_id, event.id, _summary_fields(event, payload))


async def _append_to_timeline(repo: RecordsRepository, event: Envelope, payload: DossierEventData) -> None:
    if await repo.has_entry(event.id):
        return
    canonical = event.canonical()
    for _ in range(_MAX_APPEND_ATTEMPTS):
        sequence, head = await repo.chain_head(payload.dossier_id)
        link = link_after(sequence, head, canonical)
        try:
            await repo.append(_timeline_entry(event, payload, link))
        except SequenceTaken:
            # The head lags behind the timeline (a crash after an append): catch up and try the next number.
            taken = await repo.entry_at(payload.dossier_id, link.sequence)
            if taken is not None:
                await repo.advance_head(payload.dossier_id, taken.sequence, taken.hash)
            continue
        await repo.advance_head(payload.dossier_id, link.sequence, link.hash)
        return
    raise RuntimeError(f"could not append {event.id} to the timeline of {payload.dossier_code}")


def _timeline_entry(event: Envelope, payload: DossierEventData, link: ChainEntry) -> Document:
    return {
        "_id": event.id,
        "dossier_id": payload.dossier_id,
        "dossier_code": payload.dossier_code,
        "sequence": link.sequence,
        "event_type": event.type.value,
        "event_time": event.time,
        "status_code": int(payload.status_code),
        "recorded_at": bson_now(),
        "event": link.canonical_event.decode(),
        "event_hash": link.event_hash,
        "previous_hash": link.previous_hash,
        "hash": link.hash,
    }


def _summary_fields(event: Envelope, payload: DossierEventData) -> Document:
    fields: Document = {
        "code": payload.dossier_code,
        "agency_code": payload.agency_code,
        "procedure_code": payload.procedure_code,
        "status_code": int(payload.status_code),
        "updated_at": event.time,
    }
    if event.type is EventType.DOSSIER_SUBMITTED and isinstance(payload, DossierSubmitted):
        fields.update(applicant_id=payload.applicant.id, submitted_at=payload.submitted_at)
    elif isinstance(payload, DossierReceived):
        fields.update(
            received_at=payload.received_at,
            appointment_at=payload.appointment_at,
            due_at=payload.due_at,
            tracking_pin_hash=payload.tracking_pin_hash,
        )
    elif isinstance(payload, DossierDeadlineExtended):
        fields.update(appointment_at=payload.new_due_at, due_at=payload.new_due_at)
    elif isinstance(payload, DossierProcessingResumed) and payload.due_at is not None:
        fields.update(appointment_at=payload.due_at, due_at=payload.due_at)
    return fields
