"""Erasing a dossier's personal data from what notify keeps of it (pure: no I/O).

Records erases the applicant's contact (and a citizen's name) and says which in `dossier.personal_data_erased`
(paths such as `applicant.email`). Notify kept those values in its memory of the dossier and copied them into every
delivery it made of the dossier's events: the address, the recipient's name, the facts and form a message is made
from, the event itself, the relay's answers in the history, the in-app messages. The values are taken from the
memory once, and wherever they occur they are replaced by `ERASED`; then the memory forgets them, for good: an event
delivered again later does not bring them back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hoso.documents import Document

ERASED = "***"
APPLICANT = "applicant."


def erased_fields(paths: Sequence[str]) -> list[str]:
    """The fields of the applicant that notify remembers among the erased `paths` (`applicant.email` -> `email`)."""
    return sorted({field for p in paths if p.startswith(APPLICANT) and "." not in (field := p.removeprefix(APPLICANT))})


def erased_values(dossier: Document, paths: Sequence[str]) -> list[str]:
    """The values the memory of the dossier holds at the erased `paths`, longest first (so a value inside another,
    a name inside an address, is replaced within it after it)."""
    applicant = dossier.get("applicant") or {}
    values = {str(applicant[f]).strip() for f in erased_fields(paths) if applicant.get(f)}
    return sorted((v for v in values if v and v != ERASED), key=lambda v: (-len(v), v))


def scrub(value: Any, secrets: Sequence[str]) -> Any:
    """`value` with every occurrence of each secret replaced, in strings however deep in lists and documents."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, ERASED)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    return value


def scrub_json(text: str, secrets: Sequence[str]) -> str:
    """A JSON text (an event as a delivery keeps it) with the secrets replaced in its values."""
    data = json.loads(text)
    scrubbed = scrub(data, secrets)
    return text if scrubbed == data else json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":"))


def forgotten(applicant: Document, fields: Sequence[str]) -> Document:
    """The applicant as the memory keeps it once `fields` are erased: no contact, an empty name."""
    return {**applicant, **{f: ("" if f == "name" else None) for f in fields if f in applicant}}


def memory_update(applicant: Document, paths: Sequence[str], erased_at: datetime) -> Document:
    """The update that makes the memory of a dossier forget the erased fields and remember that they are erased."""
    fields = erased_fields(paths)
    return {
        "$set": {
            "applicant": forgotten(applicant, fields),
            "personal_data_erased": fields,
            "personal_data_erased_at": erased_at,
        }
    }
