"""Messages on a dossier between its applicant and the agency, with attachments and read receipts.

Intake keeps them: it is where both sides already reach the dossier (its owner and the officers of its agency) and
where files live. A dossier's messages are one versioned document (`hoso.versioned`, `_id` the dossier's id), so two
people writing at once both land; each message sent and each first reading by the other side is a step that emits
`dossier.message_sent` or `dossier.message_read`, and records puts them on the dossier's timeline. The timeline holds
the text's SHA-256, not the text: the text stays here, where it can be erased.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Literal

from hoso.auth import Principal
from hoso.events import Envelope, EventType, new_event
from hoso.events.catalog import DossierMessageRead, DossierMessageSent, FileRef
from hoso.mongo import Document, bson_now
from hoso.steps import Step
from hoso.store import Store
from hoso.topics import DOSSIER_EVENTS

THREADS = "message_threads"
SERVICE = "intake"
Side = Literal["applicant", "agency"]
MAX_MESSAGES = 500


class ThreadFull(Exception):
    pass


def side_of(principal: Principal, dossier: Document) -> Side:
    return "applicant" if principal.subject == dossier["applicant_id"] else "agency"


class MessageStore:
    def __init__(self, store: Store) -> None:
        self.store = store.versioned(THREADS)

    async def thread(self, dossier_id: str) -> list[Document]:
        doc = await self.store.get(dossier_id)
        return list(doc["messages"]) if doc else []

    async def send(
        self,
        dossier: Document,
        author: Principal,
        text: str,
        attachments: list[FileRef],
        correlation_id: str | None,
    ) -> Document:
        now = bson_now()
        side = side_of(author, dossier)
        message: Document = {
            "id": uuid.uuid4().hex,
            "side": side,
            "author_id": author.subject,
            "author_name": author.name,
            "text": text,
            "attachments": [a.model_dump() for a in attachments],
            "sent_at": now,
            "read_at": None,
            "read_by": None,
        }
        data = DossierMessageSent(
            **_base(dossier),
            message_id=message["id"],
            side=side,
            author_id=author.subject,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
            attachments=attachments,
            sent_at=now,
        )
        event = _event(EventType.DOSSIER_MESSAGE_SENT, data, correlation_id, now)

        def decide(current: Document | None) -> Step:
            messages = list(current["messages"]) if current else []
            if len(messages) >= MAX_MESSAGES:
                raise ThreadFull()
            fields: Document = {"messages": [*messages, message], "updated_at": now}
            if current is None:
                fields.update(dossier_code=dossier["code"], agency_code=dossier["agency_code"])
            return Step(fields=fields, events=[(DOSSIER_EVENTS, event)])

        await self.store.transact(dossier["_id"], decide)
        return message

    async def mark_read(self, dossier: Document, reader: Principal, correlation_id: str | None) -> list[Document]:
        """Every message of the other side not read yet is read now, by `reader`; returns the thread."""
        now = bson_now()
        side = side_of(reader, dossier)

        def decide(current: Document | None) -> Step | None:
            if current is None:
                return None
            unread = [m for m in current["messages"] if m["side"] != side and m["read_at"] is None]
            if not unread:
                return None
            messages = [
                {**m, "read_at": now, "read_by": reader.subject} if m in unread else m for m in current["messages"]
            ]
            events = [
                (
                    DOSSIER_EVENTS,
                    _event(
                        EventType.DOSSIER_MESSAGE_READ,
                        DossierMessageRead(
                            **_base(dossier), message_id=m["id"], side=m["side"], reader_id=reader.subject, read_at=now
                        ),
                        correlation_id,
                        now,
                    ),
                )
                for m in unread
            ]
            return Step(fields={"messages": messages, "updated_at": now}, events=events)

        thread, _ = await self.store.transact(dossier["_id"], decide)
        return list(thread["messages"]) if thread else []


def _base(dossier: Document) -> dict[str, str]:
    return {
        "dossier_id": dossier["_id"],
        "dossier_code": dossier["code"],
        "procedure_code": dossier["procedure_code"],
        "agency_code": dossier["agency_code"],
    }


def _event(
    event_type: EventType, data: DossierMessageSent | DossierMessageRead, correlation_id: str | None, now: datetime
) -> Envelope:
    return new_event(event_type, data, service=SERVICE, correlation_id=correlation_id, time=now)
