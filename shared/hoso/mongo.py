"""MongoDB: the AsyncMongoClient factory and index bootstrap (works on MongoDB and FerretDB v1)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from hoso.documents import Document as Document
from hoso.logs import get_logger

log = get_logger(__name__)


T = TypeVar("T")

DUPLICATE_KEY = 11000


async def upsert(operation: Callable[[], Awaitable[T]]) -> T:
    """Run an upsert by `_id`, once more if it lost the creation race.

    FerretDB v1 runs an upsert as a read then a write, so two processes creating the same document at once can see a
    duplicate key; the second attempt finds the document and updates it.
    """
    try:
        return await operation()
    except DuplicateKeyError:
        return await operation()


class _Server:
    """What the connected server answers from an index (set once per process by `detect_server`)."""

    id_lookups_only = False


_SERVER = _Server()


async def detect_server(client: AsyncMongoClient[Document]) -> None:
    """Note whether the server is FerretDB v1, which answers only a bare `{_id: value}` filter from an index."""
    info = await client.admin.command("buildInfo")
    _SERVER.id_lookups_only = "ferretdbVersion" in info
    log.info("mongo.server", version=info.get("version"), ferretdb=info.get("ferretdbVersion"))


def id_lookups_only() -> bool:
    return _SERVER.id_lookups_only


async def update_if(
    collection: AsyncCollection[Document],
    doc_id: Any,
    *,
    guard: Document,
    holds: Callable[[Document | None], bool],
    update: Document,
    upsert: bool = False,
) -> bool:
    """`update_one({"_id": doc_id, **guard}, update)`; True when it matched (or created) the document.

    `holds` says in Python what `guard` says as a filter. On FerretDB v1 a filter beyond a bare `_id` reads the whole
    collection, and a filtered update is a read followed by a write anyway; there the guard is checked on a read by
    `_id` and the write is made by `_id`. On MongoDB the filtered update keeps it one atomic step.
    """
    if not id_lookups_only():
        result = await collection.update_one({"_id": doc_id, **guard}, update, upsert=upsert)
        return result.matched_count == 1 or result.upserted_id is not None
    current = await collection.find_one({"_id": doc_id})
    if not holds(current) or (current is None and not upsert):
        return False
    result = await collection.update_one({"_id": doc_id}, update, upsert=upsert)
    return result.matched_count == 1 or result.upserted_id is not None


# Ids looked up one by one at once; on MongoDB, more than this many are one `$in` query.
_ONE_BY_ONE = 100


async def find_by_ids(
    collection: AsyncCollection[Document], ids: Iterable[Any], projection: Document | None = None
) -> dict[Any, Document]:
    """The documents with these `_id`s, by id (absent ones left out).

    FerretDB v1 answers only `_id` equality from an index: any other filter, `$in` included, reads the whole
    collection. There (and for a handful of ids anywhere) ids are looked up one by one, concurrently, which stays
    fast as collections grow; on MongoDB many ids are one `$in` query.
    """
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > _ONE_BY_ONE and not id_lookups_only():
        return {d["_id"]: d async for d in collection.find({"_id": {"$in": wanted}}, projection=projection)}
    gate = asyncio.Semaphore(_ONE_BY_ONE)

    async def one(doc_id: Any) -> Document | None:
        async with gate:
            return await collection.find_one({"_id": doc_id}, projection=projection)

    found = await asyncio.gather(*(one(i) for i in wanted))
    return {d["_id"]: d for d in found if d is not None}


# Statements per command in `write_many`: FerretDB v1 splits a larger command into batches of 100 and goes on with
# the next batch after a refusal, even when the command is ordered.
_WRITE_CHUNK = 50


async def write_many(
    collection: AsyncCollection[Document],
    command: Literal["insert", "update"],
    statements: Sequence[Document],
    *,
    ordered: bool,
) -> list[int]:
    """Several inserts (documents) or updates (`{"q", "u", "upsert"}`) in few round trips.

    Returns the positions refused for a duplicate key (with `ordered`, the first refusal stops the rest); any other
    write error is raised. For updates a position may be earlier than the refused one (FerretDB v1 reports the first
    statement of the command), so what follows a refusal must be safe to apply again. A raw command rather than
    `bulk_write`: FerretDB v1 leaves `n` and `nModified` out of a reply with write errors, which PyMongo cannot read.
    """
    field = "documents" if command == "insert" else "updates"
    refused: list[int] = []
    for start in range(0, len(statements), _WRITE_CHUNK):
        chunk = list(statements[start : start + _WRITE_CHUNK])
        reply = await collection.database.command({command: collection.name, field: chunk, "ordered": ordered})
        errors = reply.get("writeErrors", [])
        for error in errors:
            if error.get("code") != DUPLICATE_KEY:
                raise OperationFailure(error.get("errmsg", "write error"), error.get("code"), reply)
        refused.extend(start + int(error["index"]) for error in errors)
        if ordered and errors:
            break
    return sorted(refused)


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
