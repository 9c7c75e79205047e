"""Failure classes shared by consumers, relays and APIs: plain exceptions, no driver (domain modules import them).

Which driver faults pass by themselves is `hoso.faults`.
"""

from __future__ import annotations


class TransientError(Exception):
    """A failure of this moment (for instance a write that lost a race): trying again later succeeds."""


class PoisonMessage(Exception):
    """A message that will never be processed as it is: dead-letter it and move on."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class UnparseableMessage(PoisonMessage):
    def __init__(self, detail: str) -> None:
        super().__init__("unparseable", detail)


class SchemaViolation(PoisonMessage):
    def __init__(self, detail: str) -> None:
        super().__init__("schema-invalid", detail)


class UnknownEventType(PoisonMessage):
    def __init__(self, event_type: str) -> None:
        super().__init__("unknown-type", f"unknown event type {event_type!r}")


class ImpossibleTransition(PoisonMessage):
    def __init__(self, detail: str) -> None:
        super().__init__("impossible-transition", detail)
