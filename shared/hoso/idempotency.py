"""Apply an event's effect at most once: a conditional update on the same document the effect changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError

from hoso.mongo import Document
from hoso.store import Guard, Table

APPLIED_FIELD = "applied_events"


async def apply_once(
    table: Table,
    *,
    doc_id: Any,
    event_id: str,
    update: Document,
    upsert: bool = False,
    unchanged: Mapping[str, Any] | None = None,
) -> bool:
    """Run `update` on document `doc_id` unless `event_id` was applied to it already.

    Returns True when the effect happened now, False when the event had been applied before (a duplicate,
    a redelivery or a replay) or, with `unchanged` (dotted paths and the values the caller read), when one of those
    fields has changed since. The event id is recorded in the same single-document update as the effect.
    """
    facts = dict(unchanged or {})

    def holds(doc: Document | None) -> bool:
        if doc is None:
            return not facts
        return event_id not in doc.get(APPLIED_FIELD, ()) and all(dotted(doc, k) == v for k, v in facts.items())

    try:
        guard = Guard({APPLIED_FIELD: {"$ne": event_id}, **facts}, holds)
        return await table.update_if(doc_id, guard, once_update(update, event_id), upsert=upsert)
    except DuplicateKeyError:
        # The upsert found no document to update: either this one holds the event id already (a duplicate), or
        # another unique index refused the insert, which is a real conflict for the caller to see.
        existing = await table.get(doc_id, projection={APPLIED_FIELD: 1})
        if existing is not None and event_id in existing.get(APPLIED_FIELD, ()):
            return False
        raise


def dotted(doc: Document, path: str) -> Any:
    """The value at a dotted path (None where a field is missing, as a MongoDB equality filter reads it)."""
    value: Any = doc
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def once_guard(event_id: str) -> Guard:
    """Holds for a document only while `event_id` has not been applied to it (an absent one included)."""
    return Guard(
        {APPLIED_FIELD: {"$ne": event_id}}, lambda doc: doc is None or event_id not in doc.get(APPLIED_FIELD, ())
    )


def once_update(update: Document, event_id: str) -> Document:
    """`update` that also records `event_id` as applied, in the same single-document write."""
    return {**update, "$push": {**update.get("$push", {}), APPLIED_FIELD: event_id}}
