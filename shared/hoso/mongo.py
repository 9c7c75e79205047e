"""MongoDB: the AsyncMongoClient factory and index bootstrap (works on MongoDB and FerretDB v1); what is read and
written goes through the persistence port, `hoso.store`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from hoso.documents import Document as Document
from hoso.logs import get_logger

log = get_logger(__name__)


class SlowCommands(monitoring.CommandListener):
    """Logs every command that took at least `threshold_ms`: its name, collection and duration (never its data)."""

    def __init__(self, threshold_ms: float) -> None:
        self.threshold_ms = threshold_ms
        self._collections: dict[tuple[int, int], str] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        self._collections[(event.request_id, event.operation_id or 0)] = target if isinstance(target, str) else ""

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finished(event, "ok")

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._finished(event, "failed")

    def _finished(self, event: monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent, outcome: str) -> None:
        collection = self._collections.pop((event.request_id, event.operation_id or 0), "")
        took_ms = event.duration_micros / 1000
        if took_ms >= self.threshold_ms:
            log.warning(
                "mongo.slow_command",
                command=event.command_name,
                database=event.database_name,
                collection=collection,
                duration_ms=round(took_ms, 1),
                outcome=outcome,
            )


def create_client(
    url: str, *, app_name: str, max_pool_size: int = 100, slow_ms: float = 0.0
) -> AsyncMongoClient[Document]:
    """tz-aware datetimes, short server selection so a dead server shows as not-ready quickly; with `slow_ms`,
    commands that take at least that long are logged (`mongo.slow_command`)."""
    return AsyncMongoClient(
        url,
        appname=app_name,
        maxPoolSize=max_pool_size,
        tz_aware=True,
        serverSelectionTimeoutMS=5_000,
        connectTimeoutMS=5_000,
        retryWrites=True,
        event_listeners=[SlowCommands(slow_ms)] if slow_ms > 0 else [],
    )


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    keys: Sequence[tuple[str, int]]
    name: str
    unique: bool = False


async def ensure_indexes(db: AsyncDatabase[Document], specs: Sequence[IndexSpec]) -> None:
    """Create the indexes a service relies on; idempotent at every start-up."""
    for spec in specs:
        await db[spec.collection].create_index(list(spec.keys), name=spec.name, unique=spec.unique)
    log.info("mongo.indexes_ready", database=db.name, count=len(specs))


async def ping(client: AsyncMongoClient[Document]) -> None:
    await client.admin.command("ping")


def bson_now() -> datetime:
    """The current UTC time at BSON precision (milliseconds), so stored and published times agree."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
