"""Which faults of the infrastructure (MongoDB, FerretDB, Kafka, the network) pass by themselves.

Infrastructure code (consumers, relays, retries, the HTTP edge) asks `is_transient` to retry with backoff instead of
dead-lettering or answering 500; domain modules never import it (nor the drivers it knows).
"""

from __future__ import annotations

import asyncio

from aiokafka import errors as kafka_errors
from pymongo import errors as mongo_errors

from hoso.errors import TransientError

_BUSY = "database is locked"


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
