"""Personal data kept out of the hash chain, so that it can be erased and every audit stays valid. Pure: no I/O.

The chain signs what may never change, while the Law on Personal Data Protection (91/2025/QH15, in force since
2026-01-01) gives a person the right to have their data deleted. So the event a timeline entry keeps has each
personal value (the applicant's e-mail, phone and address, and a citizen's name; an organisation's name is not personal
data) replaced by `personal:` and its salted digest (HMAC-SHA256 under the dossier's own random salt). The values and
the salt are kept beside the chain, in records' `personal_data` collection, where they can be erased. Once erased
(values and salt deleted), the entry still holds the digest, its hash and the chain are unchanged, and the digest can
no longer be tested against a guess: a phone number has few enough possibilities to be found from an unsalted hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from hoso.events import Envelope, EventType
from hoso.events.envelope import canonical_json

PREFIX = "personal:"
SALT_BYTES = 32

# Where the personal values of each event type are, as paths in its data.
_PERSONAL: dict[EventType, tuple[tuple[str, ...], ...]] = {
    EventType.DOSSIER_SUBMITTED: (
        ("applicant", "email"),
        ("applicant", "phone"),
        ("applicant", "address"),
        ("applicant", "name"),
    ),
}


def new_salt() -> str:
    return secrets.token_hex(SALT_BYTES)


def digest(value: str, salt: str) -> str:
    """`personal:` and the value's HMAC-SHA256 under the dossier's salt."""
    return PREFIX + hmac.new(bytes.fromhex(salt), value.encode(), hashlib.sha256).hexdigest()


def _is_personal(data: dict[str, Any], path: tuple[str, ...]) -> bool:
    # An organisation's name is the project owner's on the legal record, not a person's data.
    return not (path == ("applicant", "name") and (data.get("applicant") or {}).get("kind") == "organisation")


def personal_values(event: Envelope) -> dict[str, str]:
    """The event's personal values by dotted path (those set and not empty)."""
    found: dict[str, str] = {}
    for path in _PERSONAL.get(event.type, ()):
        node: Any = event.data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, str) and node and _is_personal(event.data, path):
            found[".".join(path)] = node
    return found


def chained_form(event: Envelope, salt: str | None, values: dict[str, str] | None = None) -> bytes:
    """The canonical bytes the chain signs: the event with each personal value (`values`, as `personal_values` finds
    them) replaced by its digest.

    Without a salt (the dossier's personal data was erased before this event came again), each value is replaced by
    `personal:erased`: nothing personal is written after an erasure.
    """
    values = personal_values(event) if values is None else values
    if not values:
        return event.canonical()
    whole = json.loads(event.canonical())
    for path, value in values.items():
        *parents, last = path.split(".")
        node = whole["data"]
        for key in parents:
            node = node[key]
        node[last] = digest(value, salt) if salt is not None else PREFIX + "erased"
    return canonical_json(whole)


def matches(value: str, stored: str, salt: str) -> bool:
    """Whether a digest in the chain is the digest of `value` (while the salt is kept)."""
    return hmac.compare_digest(digest(value, salt), stored)
