"""MongoDB: the AsyncMongoClient factory and index bootstrap (works on MongoDB and FerretDB v1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hoso.logs import get_logger

log = get_logger(__name__)

Document = dict[str, Any]

T = TypeVar("T")


async def upsert(operation: Callable[[], Awaitable[T]]) -> T:
    """Run an upsert by `_id`, once more if it lost the creation race.

    FerretDB v1 runs an upsert as a read then a write, so two processes creating the same document at once can see a
    duplicate key; the second attempt finds the document and updates it.
    """
    try:
        return await operation()
    except DuplicateKeyError:
        return await operation()


def create_client(url: str, *, app_name: str, max_pool_size: int = 100) -> AsyncMongoClient[Document]:
    """tz-aware datetimes, short server selection so a dead server shows as not-ready quickly."""
    return AsyncMongoClient(
        url,
        appname=app_name,
        maxPoolSize=max_pool_size,
        tz_aware=True,
        serverSelectionTimeoutMS=5_000,
        connectTimeoutMS=5_000,
        retryWrites=True,
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
