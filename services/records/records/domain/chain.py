"""The per-dossier hash chain: each entry signs the previous entry's hash and the canonical event."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

GENESIS = "0" * 64


def event_hash(canonical_event: bytes) -> str:
    return hashlib.sha256(canonical_event).hexdigest()


def link_hash(previous: str, event_digest: str, sequence: int) -> str:
    return hashlib.sha256(f"{sequence}:{previous}:{event_digest}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainEntry:
    sequence: int
    canonical_event: bytes
    event_hash: str
    previous_hash: str
    hash: str


@dataclass(frozen=True)
class AuditResult:
    valid: bool
    entries: int
    head: str
    first_invalid_sequence: int | None = None
    problem: str | None = None


def next_link(previous: ChainEntry | None, canonical_event: bytes) -> ChainEntry:
    if previous is None:
        return link_after(0, GENESIS, canonical_event)
    return link_after(previous.sequence, previous.hash, canonical_event)


def link_after(sequence: int, head: str, canonical_event: bytes) -> ChainEntry:
    """The entry that follows the entry `sequence` whose hash is `head` (0 and GENESIS for the first)."""
    digest = event_hash(canonical_event)
    return ChainEntry(sequence + 1, canonical_event, digest, head, link_hash(head, digest, sequence + 1))


def audit(entries: Sequence[ChainEntry]) -> AuditResult:
    """Recompute the chain in order; name the first entry that does not match."""
    previous = GENESIS
    for expected_sequence, entry in enumerate(entries, start=1):
        problem = None
        if entry.sequence != expected_sequence:
            problem = f"sequence {entry.sequence} where {expected_sequence} was expected"
        elif entry.previous_hash != previous:
            problem = "previous_hash does not match the entry before"
        elif event_hash(entry.canonical_event) != entry.event_hash:
            problem = "the stored event does not match its event_hash"
        elif link_hash(previous, entry.event_hash, entry.sequence) != entry.hash:
            problem = "hash does not match previous_hash and event_hash"
        if problem:
            return AuditResult(False, len(entries), previous, entry.sequence, problem)
        previous = entry.hash
    return AuditResult(True, len(entries), previous)
