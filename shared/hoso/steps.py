"""A step of a versioned document, as a domain decides it (pure: `hoso.versioned` stores it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hoso.documents import Document
from hoso.events.envelope import Envelope

APPLIED_FIELD = "applied_events"
# The history records of the document's steps (version, time, record), kept on the document so that showing it reads
# nothing more.
HISTORY_FIELD = "history"
_RESERVED = frozenset({"_id", "version", "outbox", "outbox_rev", "outbox_at", APPLIED_FIELD, HISTORY_FIELD})


@dataclass(frozen=True)
class Step:
    """One change: the fields it sets, the events it emits, the incoming event it applies, its history record; and,
    for a change that erases data the history held, the history as it reads from then on (before its own record)."""

    fields: Document
    events: Sequence[tuple[str, Envelope]] = ()
    applies_event: str | None = None
    record: Document = field(default_factory=dict)
    history: Sequence[Document] | None = None

    def __post_init__(self) -> None:
        reserved = _RESERVED.intersection(self.fields)
        if reserved:
            raise ValueError(f"a step cannot set {sorted(reserved)}")


def has_applied(doc: Document | None, event_id: str) -> bool:
    return doc is not None and event_id in doc.get(APPLIED_FIELD, ())
