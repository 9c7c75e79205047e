"""Failure classes shared by consumers, relays and APIs."""

from __future__ import annotations

import asyncio

from aiokafka import errors as kafka_errors
from pymongo import errors as mongo_errors

_BUSY = "database is locked"


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


def is_transient(exc: BaseException) -> bool:
    """Faults of the infrastructure that pass by themselves: retried with backoff, never dead-lettered."""
    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, mongo_errors.ConnectionFailure | mongo_errors.WaitQueueTimeoutError):
        return True
    if isinstance(exc, mongo_errors.PyMongoError) and exc.has_error_label("RetryableWriteError"):
        return True
    if isinstance(exc, mongo_errors.NotPrimaryError | mongo_errors.ExecutionTimeout):
        return True
    if isinstance(exc, mongo_errors.OperationFailure) and _BUSY in str(exc):
        # FerretDB on SQLite answers a write that met another writer's lock with SQLITE_BUSY.
        return True
    if isinstance(exc, kafka_errors.KafkaConnectionError | kafka_errors.KafkaTimeoutError):
        return True
    if isinstance(exc, kafka_errors.KafkaError) and getattr(exc, "retriable", False):
        return True
    return isinstance(exc, ConnectionError | TimeoutError | asyncio.TimeoutError)
