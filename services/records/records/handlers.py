"""Records' event handlers: append every dossier event once, in order, to its hash-chained timeline."""

from __future__ import annotations

from collections.abc import Sequence

from hoso.events import Envelope, EventType
from hoso.events.catalog import (
    DossierApproved,
    DossierDeadlineExtended,
    DossierEventData,
    DossierFeePaid,
    DossierProcessingResumed,
    DossierReceived,
    DossierRefused,
    DossierRejected,
    DossierResultReturned,
    DossierStopped,
    DossierSubmitted,
    DossierSupplementRequested,
    TimelineNote,
)
from hoso.mongo import Document, bson_now
from records.domain.chain import GENESIS, ChainEntry, link_after
from records.domain.personal import chained_form, new_salt, personal_values
from records.repository import RecordsRepository, SequenceTaken

_MAX_APPEND_ATTEMPTS = 20


async def record_event(repo: RecordsRepository, event: Envelope) -> Document | None:
    """Append `event` to its dossier's timeline and update the dossier summary; both at most once.

    Returns the summary when this event ended the dossier (result returned, refused, stopped), else None.
    """
    payload = event.payload()
    if isinstance(payload, TimelineNote):
        await _append_to_timeline(repo, event, payload)
        return None
    assert isinstance(payload, DossierEventData)
    await _append_to_timeline(repo, event, payload)
    await repo.update_summary(payload.dossier_id, event.id, _summary_fields(event, payload), _history(event, payload))
    return await repo.dossier(payload.dossier_id) if event.type in ENDINGS else None


async def record_events(repo: RecordsRepository, events: Sequence[Envelope]) -> list[tuple[Document, str]]:
    """`record_event` for a batch (each dossier's events in order) in a handful of round trips.

    The entries are chained from the heads read once, inserted in one ordered insert and the heads moved in one
    bulk write; the summaries are updated in one ordered bulk write. When an insert is refused (an event recorded
    before, another writer on the same dossier), that event and the ones after it take the one-by-one path, which
    tells the two apart. Returns (summary, event id) for each event that ended its dossier.
    """
    unique = list({event.id: event for event in events}.values())
    payloads = [(event, _payload(event)) for event in unique]
    heads = await repo.chain_heads(list({payload.dossier_id for _, payload in payloads}))
    # Dossiers new to records: their codes are noted before their first entries.
    await repo.remember_codes({p.dossier_code: p.dossier_id for _, p in payloads if p.dossier_id not in heads})
    entries = []
    for event, payload in payloads:
        sequence, head = heads.get(payload.dossier_id, (0, GENESIS))
        link = link_after(sequence, head, await _chained_form(repo, event, payload))
        heads[payload.dossier_id] = (link.sequence, link.hash)
        entries.append(_timeline_entry(event, payload, link))
    inserted = await repo.append_many(entries)
    moved: dict[str, tuple[int, str, list[str]]] = {}
    for entry in entries[:inserted]:
        ids = moved[entry["dossier_id"]][2] if entry["dossier_id"] in moved else []
        moved[entry["dossier_id"]] = (entry["sequence"], entry["hash"], [*ids, entry["_id"]])
    await repo.advance_heads(moved)
    for event, payload in payloads[inserted:]:
        await _append_to_timeline(repo, event, payload)
    await repo.update_summaries(
        [
            (payload.dossier_id, event.id, _summary_fields(event, payload), _history(event, payload))
            for event, payload in payloads
            if isinstance(payload, DossierEventData)
        ]
    )
    ended = []
    for event, payload in payloads:
        if event.type in ENDINGS and (summary := await repo.dossier(payload.dossier_id)) is not None:
            ended.append((summary, event.id))
    return ended


def _payload(event: Envelope) -> DossierEventData | TimelineNote:
    payload = event.payload()
    assert isinstance(payload, DossierEventData | TimelineNote)
    return payload


def _history(event: Envelope, payload: DossierEventData) -> Document:
    entry: Document = {"at": event.time, "status": int(payload.status_code), "event_id": event.id}
    if isinstance(payload, DossierSupplementRequested) and payload.purpose == "revision":
        entry["awaiting"] = "revision"  # the revised report after the council, not documents missing at reception
    return entry


ENDINGS = frozenset({EventType.DOSSIER_RESULT_RETURNED, EventType.DOSSIER_REFUSED, EventType.DOSSIER_STOPPED})


async def _append_to_timeline(
    repo: RecordsRepository, event: Envelope, payload: DossierEventData | TimelineNote
) -> None:
    # No look-up first: the entry's `_id` is the event id, so the insert itself tells a redelivery apart.
    canonical = await _chained_form(repo, event, payload)
    for _ in range(_MAX_APPEND_ATTEMPTS):
        sequence, head = await repo.chain_head(payload.dossier_id)
        if sequence == 0:
            await repo.remember_codes({payload.dossier_code: payload.dossier_id})
        link = link_after(sequence, head, canonical)
        try:
            if not await repo.append(_timeline_entry(event, payload, link)):
                # Recorded before; the head may not have reached it (a crash between the two writes).
                recorded = await repo.entry(event.id)
                if recorded is not None and recorded["sequence"] == sequence + 1:
                    await repo.advance_head(payload.dossier_id, recorded["sequence"], recorded["hash"], event.id)
                return
        except SequenceTaken:
            # The head lags behind the timeline (a crash after an append): catch up and try the next number.
            taken = await repo.entry_at(payload.dossier_id, link.sequence)
            if taken is not None:
                await repo.advance_head(payload.dossier_id, taken["sequence"], taken["hash"], taken["_id"])
            continue
        await repo.advance_head(payload.dossier_id, link.sequence, link.hash, event.id)
        return
    raise RuntimeError(f"could not append {event.id} to the timeline of {payload.dossier_code}")


async def _chained_form(repo: RecordsRepository, event: Envelope, payload: DossierEventData | TimelineNote) -> bytes:
    """The event as the chain signs it: its personal values kept aside (erasable) and their salted digests in it."""
    values = personal_values(event)
    if not values:
        return event.canonical()
    salt = await repo.keep_personal(payload.dossier_id, payload.dossier_code, values, new_salt())
    return chained_form(event, salt, values)


def _timeline_entry(event: Envelope, payload: DossierEventData | TimelineNote, link: ChainEntry) -> Document:
    status = int(payload.status_code) if isinstance(payload, DossierEventData) else None
    return {
        "_id": event.id,
        "dossier_id": payload.dossier_id,
        "dossier_code": payload.dossier_code,
        "sequence": link.sequence,
        "event_type": event.type.value,
        "event_time": event.time,
        "status_code": status,
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
    if payload.clock_paused is not None:
        fields["clock_paused"] = payload.clock_paused
    if isinstance(payload, DossierSubmitted):
        fields.update(
            applicant_id=payload.applicant.id,
            applicant_name=payload.applicant.name,
            applicant_kind=payload.applicant.kind,
            channel=payload.channel,
            submitted_at=payload.submitted_at,
            clock_paused=False,
            procedure_version=payload.procedure_version,
            procedure_name_vi=payload.procedure_name_vi,
            procedure_name_en=payload.procedure_name_en,
            components=[c.model_dump(mode="json") for c in payload.components],
            # Digitised (Decision 766's digitisation group): every component came as files, online or scanned.
            digitised=bool(payload.components) and all(c.file_ids for c in payload.components),
        )
    elif isinstance(payload, DossierReceived):
        fields.update(
            received_at=payload.received_at,
            appointment_at=payload.appointment_at,
            due_at=payload.due_at,
            promised_at=payload.appointment_at,
            receipt_number=payload.receipt_number,
            tracking_pin_hash=payload.tracking_pin_hash,
        )
    elif isinstance(payload, DossierApproved):
        fields.update(
            decision="approved",
            decision_number=payload.decision_number,
            result_electronic=payload.attachment is not None,
        )
    elif isinstance(payload, DossierRejected):
        fields.update(decision="rejected", result_electronic=payload.attachment is not None)
    elif isinstance(payload, DossierFeePaid):
        # Paid through the platform's payment gateway (intake's callback): paid online.
        fields.update(fee_paid_at=event.time, fee_paid_online=True)
    elif isinstance(payload, DossierResultReturned):
        fields.update(finished_at=payload.returned_at, outcome="returned")
    elif isinstance(payload, DossierRefused):
        fields.update(finished_at=event.time, outcome="refused")
    elif isinstance(payload, DossierStopped):
        fields.update(finished_at=event.time, outcome="stopped")
    elif isinstance(payload, DossierDeadlineExtended):
        fields.update(appointment_at=payload.new_due_at, due_at=payload.new_due_at)
        if payload.promised_at is not None:  # moved by an extension the law grants, not by an apology
            fields.update(promised_at=payload.promised_at)
    elif isinstance(payload, DossierProcessingResumed) and payload.due_at is not None:
        fields.update(appointment_at=payload.due_at, due_at=payload.due_at, promised_at=payload.promised_at)
    return fields
