"""The persistence port: the one API every repository speaks, whatever server the client found.

A repository holds a `Store` (one per database and process) and asks it for `Table`s and `Versioned` tables. Every
operation is said once, in terms of what the repository wants (get by id, insert if absent, a guarded update, a
versioned change with its outbox, find by a key, list by a filter, a page); how the server is best asked is the
adapter's business, chosen at start-up from what the server says of itself (`Store.connect`):

- `hoso.store.ferretdb.FerretDBAdapter` (FerretDB v1 on SQLite, the embedded default): it answers only a bare
  `{_id: value}` filter from an index and runs an update as a read then a write, so look-ups go by `_id`, a guarded
  update is a read, a check in Python and a write by `_id`, versioned documents are written as numbered steps, and
  the open documents of a partition that pages are cut from are kept in memory (caught up from a change log).
- `hoso.store.mongodb.MongoDBAdapter` (MongoDB): secondary indexes, filtered and guarded updates in one command,
  versioned documents by compare-and-set on their version, and on a replica set a transaction where one fact needs
  two documents (`Store.together`).

Repositories never branch on the server; the contract suite (`tests/integration/test_store_contract.py`) runs every
operation through both adapters against the server the tests have.
"""

from __future__ import annotations

import abc
import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from hoso.documents import Document
from hoso.logs import get_logger

if TYPE_CHECKING:
    from hoso.versioned import Versioned

log = get_logger(__name__)

T = TypeVar("T")

DUPLICATE_KEY = 11000

# The session of the transaction the current task runs in (`Store.together`), passed to every command.
_SESSION: contextvars.ContextVar[AsyncClientSession | None] = contextvars.ContextVar("hoso_store_session", default=None)


def session() -> AsyncClientSession | None:
    return _SESSION.get()


@dataclass(frozen=True)
class Filter:
    """Which documents: `query` says it to the server, `holds` the same in Python (for an adapter that answers from
    memory). `partition`: the value of the table's partition field every match has; `kept`: every match is one a
    copied table keeps (`Copied.keep`). A filter without `holds` is always sent to the server."""

    query: Document
    holds: Callable[[Document], bool] | None = None
    partition: str | None = None
    kept: bool = False


@dataclass(frozen=True)
class Order:
    """A sort order: `fields` as the server sorts, `key` the same order in Python (needed for a copied table)."""

    fields: Sequence[tuple[str, int]]
    key: Callable[[Document], Any] | None = None


@dataclass(frozen=True)
class Guard:
    """The condition of a guarded write, as a filter (`query`, beside `_id`) and in Python (`holds`, of the document
    as it is, None when there is none)."""

    query: Document
    holds: Callable[[Document | None], bool]


@dataclass(frozen=True)
class Write:
    """One guarded update of several: document `doc_id`, changed by `update` when `guard` holds."""

    doc_id: Any
    update: Document
    guard: Guard | None = None
    upsert: bool = False


@dataclass(frozen=True)
class Copied:
    """A table whose open documents are read per partition far more often than they change: an adapter without
    secondary indexes keeps each partition's documents that `keep` in memory and answers `kept` filters from it.
    `projection`: what of a document the copy holds (a page's rows need no more). A document's partition is set when
    it is created and never changes (a review instance's agency): a write is logged in the partition it names."""

    partition: str
    keep: Filter
    projection: Mapping[str, int]
    full_read_seconds: float = 300.0
    at_most: int = 500


class Adapter(abc.ABC):
    """How one kind of server is asked what the port's operations mean."""

    name: str

    @abc.abstractmethod
    async def get_many(
        self, table: Table, ids: Sequence[Any], projection: Mapping[str, int] | None
    ) -> dict[Any, Document]:
        """The documents with these ids, by id (absent ones left out)."""

    @abc.abstractmethod
    async def update_if(self, table: Table, doc_id: Any, guard: Guard, update: Document, upsert: bool) -> bool:
        """`update` of document `doc_id` when `guard` holds; True when it matched (or created) it."""

    @abc.abstractmethod
    async def update_many_if(self, table: Table, writes: Sequence[Write], ordered: bool) -> list[int]:
        """Several guarded updates in few round trips; the positions refused for a duplicate key (see write_many)."""

    @abc.abstractmethod
    async def replace_if_newer(self, table: Table, doc: Document) -> None:
        """Write `doc` whole unless the stored one has its version or a later one."""

    @abc.abstractmethod
    async def find(
        self,
        table: Table,
        where: Filter,
        projection: Mapping[str, int] | None,
        order: Order | None,
        skip: int,
        limit: int | None,
    ) -> list[Document]: ...

    @abc.abstractmethod
    async def count(self, table: Table, where: Filter) -> int: ...

    @abc.abstractmethod
    def versioned(self, table: Table, attempts: int) -> Versioned:
        """How this server keeps documents changed by numbered versions with their outbox."""

    @abc.abstractmethod
    async def claim(self, numbering: Numbering, scope: str, owner: Any) -> int:
        """A new number of `scope` for `owner`, its claim document written (given-back numbers are the caller's);
        NumbersExhausted past the last."""

    async def written(self, table: Table, docs: Sequence[Document] = (), ids: Sequence[Any] = ()) -> None:  # noqa: B027
        """Told after every write to `table`: the documents written (whole) or their ids."""

    async def together(self, store: Store, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work`, whose writes make one fact, as one transaction where the server has them."""
        return await work()


class Table:
    """One collection, asked through the store's adapter."""

    def __init__(self, store: Store, name: str, copied: Copied | None = None) -> None:
        self.store = store
        self.name = name
        self.copied = copied
        # For adapters and the outbox relay only: repositories use the operations below.
        self.raw: AsyncCollection[Document] = store.db[name]

    async def _adapter(self) -> Adapter:
        return await self.store.adapter()

    async def get(self, doc_id: Any, projection: Mapping[str, int] | None = None) -> Document | None:
        return await self.raw.find_one({"_id": doc_id}, projection=projection, session=session())

    async def get_many(self, ids: Iterable[Any], projection: Mapping[str, int] | None = None) -> dict[Any, Document]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        return await (await self._adapter()).get_many(self, wanted, projection)

    async def insert(self, doc: Document) -> bool:
        """Insert `doc`; False when a unique key (its `_id` or another) is taken."""
        try:
            await self.raw.insert_one(doc, session=session())
        except DuplicateKeyError:
            return False
        await (await self._adapter()).written(self, docs=[doc])
        return True

    async def insert_many(self, docs: Sequence[Document], *, ordered: bool) -> list[int]:
        """Insert several documents in few round trips; the positions refused for a duplicate key (with `ordered`,
        the first refusal stops the rest)."""
        refused = await write_many(self.raw, "insert", docs, ordered=ordered)
        stop, left_out = (refused[0] if ordered and refused else len(docs)), set(refused)
        written = [d for n, d in enumerate(docs[:stop]) if n not in left_out]
        await (await self._adapter()).written(self, docs=written)
        return refused

    async def put(self, doc: Document) -> None:
        """Write `doc` whole by its `_id`, creating it if absent."""

        async def replace() -> None:
            await self.raw.replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session())

        await upsert(replace)
        await (await self._adapter()).written(self, docs=[doc])

    async def update(self, doc_id: Any, update: Document, *, upsert: bool = False) -> bool:
        """`update` of document `doc_id`; True when it matched (or created) it."""

        async def change() -> bool:
            result = await self.raw.update_one({"_id": doc_id}, update, upsert=upsert, session=session())
            return result.matched_count == 1 or result.upserted_id is not None

        changed = await (_upsert(change) if upsert else change())
        if changed:
            await (await self._adapter()).written(self, ids=[doc_id])
        return changed

    async def update_if(self, doc_id: Any, guard: Guard, update: Document, *, upsert: bool = False) -> bool:
        """`update` of document `doc_id` only while `guard` holds (a duplicate key on `upsert` is raised)."""
        adapter = await self._adapter()
        changed = await adapter.update_if(self, doc_id, guard, update, upsert)
        if changed:
            await adapter.written(self, ids=[doc_id])
        return changed

    async def update_many_if(self, writes: Sequence[Write], *, ordered: bool) -> list[int]:
        adapter = await self._adapter()
        refused = await adapter.update_many_if(self, writes, ordered)
        await adapter.written(self, ids=[w.doc_id for w in writes])
        return refused

    async def replace_if_newer(self, doc: Document) -> None:
        adapter = await self._adapter()
        await adapter.replace_if_newer(self, doc)
        await adapter.written(self, docs=[doc])

    async def take(self, query: Document, update: Document) -> Document | None:
        """Update the first document `query` matches and return it as it was before (None when none matched)."""
        found: Document | None = await self.raw.find_one_and_update(query, update, session=session())
        if found is not None:
            await (await self._adapter()).written(self, ids=[found["_id"]])
        return found

    async def delete(self, doc_id: Any) -> bool:
        # A copied table's copies learn of a deletion from the partition the document was in.
        gone = await self.get(doc_id, {self.copied.partition: 1}) if self.copied is not None else None
        result = await self.raw.delete_one({"_id": doc_id}, session=session())
        if result.deleted_count:
            await (await self._adapter()).written(self, docs=[gone] if gone is not None else [], ids=[doc_id])
        return result.deleted_count == 1

    async def delete_many(self, query: Document) -> int:
        """Delete what `query` matches (not for copied tables: their copies would not know)."""
        assert self.copied is None, f"{self.name}: delete copied documents one by one"
        result = await self.raw.delete_many(query, session=session())
        return int(result.deleted_count)

    async def find_one(self, query: Document, projection: Mapping[str, int] | None = None) -> Document | None:
        """The document with this key (a unique secondary key: an index on MongoDB, a read of the table on
        FerretDB v1, so keep it off hot paths there)."""
        return await self.raw.find_one(query, projection=projection, session=session())

    async def find(
        self,
        where: Filter | Document,
        projection: Mapping[str, int] | None = None,
        *,
        order: Order | None = None,
        limit: int | None = None,
    ) -> list[Document]:
        """The documents `where` matches, in `order`."""
        return await (await self._adapter()).find(self, _filter(where), projection, order, 0, limit)

    async def page(
        self,
        where: Filter | Document,
        projection: Mapping[str, int] | None = None,
        *,
        order: Order,
        skip: int,
        limit: int,
    ) -> tuple[list[Document], int]:
        """One page of what `where` matches in `order`, and how many it matches in all."""
        adapter = await self._adapter()
        chosen = _filter(where)
        rows = await adapter.find(self, chosen, projection, order, skip, limit)
        total = await adapter.count(self, chosen)
        return rows, total

    async def count(self, where: Filter | Document) -> int:
        return await (await self._adapter()).count(self, _filter(where))


async def asked_of_the_server(
    table: Table,
    where: Filter,
    projection: Mapping[str, int] | None,
    order: Order | None,
    skip: int,
    limit: int | None,
) -> list[Document]:
    """`where` as one query of the table (what an adapter does unless it holds the answer itself)."""
    cursor = table.raw.find(where.query, projection=projection, session=session())
    if order is not None:
        cursor = cursor.sort(list(order.fields))
    if skip:
        cursor = cursor.skip(skip)
    if limit is not None:
        cursor = cursor.limit(limit)
    return [d async for d in cursor]


def _filter(where: Filter | Document) -> Filter:
    return where if isinstance(where, Filter) else Filter(where)


class NumbersExhausted(Exception):
    """Every number of a scope is taken."""


class Numbering:
    """Numbers 1..`at_most` per scope (an agency's day), each claimed once and in order.

    A number given back (its owner could not be stored) is the next one claimed, so that failure leaves no gap; a
    number whose claimer died before storing its owner stays unused: numbers are unique and in claim order, not
    gap-free. `counters` holds each scope's highest number claimed and the numbers given back; `claims` says who
    first claimed each number and when, so an unused one can be accounted for.
    """

    def __init__(self, store: Store, *, counters: str, claims: str, at_most: int) -> None:
        self.store = store
        self.counters = store.table(counters)
        self.claims = store.table(claims)
        self.at_most = at_most

    @staticmethod
    def claim_id(scope: str, number: int) -> str:
        return f"{scope}|{number}"

    async def claim(self, scope: str, owner: Any) -> int:
        """The next number of `scope` for `owner`: one given back first, else a new one."""
        released = await self.counters.take({"_id": scope, "released.0": {"$exists": True}}, {"$pop": {"released": -1}})
        if released is not None:
            return int(released["released"][0])
        return await (await self.store.adapter()).claim(self, scope, owner)

    async def give_back(self, scope: str, number: int) -> None:
        """Give back a number whose owner was not stored: the next claim of the scope takes it."""
        await self.counters.update(scope, {"$push": {"released": number}}, upsert=True)

    async def owner(self, scope: str, number: int) -> Any | None:
        """Who first claimed `number` (None when nobody has): a number given back and claimed again keeps naming its
        first claimer."""
        claim = await self.claims.get(self.claim_id(scope, number))
        return None if claim is None else claim.get("owner")


class Store:
    """One database, asked through the adapter that suits its server (chosen by `connect`, at start-up)."""

    def __init__(self, db: AsyncDatabase[Document], adapter: Adapter | None = None) -> None:
        self.db = db
        self._adapter = adapter
        self._choosing = asyncio.Lock()
        self._tables: dict[str, Table] = {}

    async def connect(self) -> Adapter:
        """Choose the adapter from what the server says of itself (once; later calls return it)."""
        if self._adapter is not None:
            return self._adapter
        async with self._choosing:
            if self._adapter is None:
                self._adapter = await adapter_for(self.db)
        return self._adapter

    async def adapter(self) -> Adapter:
        return self._adapter if self._adapter is not None else await self.connect()

    def table(self, name: str, *, copied: Copied | None = None) -> Table:
        """The table `name` (one per name: a copied table is declared where it is first asked for)."""
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = Table(self, name, copied)
        return table

    def versioned(self, name: str, *, attempts: int = 50, copied: Copied | None = None) -> VersionedTable:
        return VersionedTable(self.table(name, copied=copied), attempts)

    def numbering(self, *, counters: str, claims: str, at_most: int) -> Numbering:
        return Numbering(self, counters=counters, claims=claims, at_most=at_most)

    async def together(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work`, whose writes make one fact of two or more documents, as one transaction where the server has
        them (a MongoDB replica set). Elsewhere `work` runs as it is: its writes must then be ordered so that the
        first one decides and the others can be redone from it (what every writer here does on FerretDB v1)."""
        return await (await self.adapter()).together(self, work)


@dataclass
class _Deferred:
    """The versioned strategy of a table, made when the adapter is known."""

    table: Table
    attempts: int
    chosen: Versioned | None = None
    on_events: Callable[[str], None] | None = None


class VersionedTable:
    """A table of versioned documents (see `hoso.versioned`), kept the way the store's adapter keeps them."""

    def __init__(self, table: Table, attempts: int) -> None:
        self.table = table
        self._deferred = _Deferred(table, attempts)

    @property
    def on_events(self) -> Callable[[str], None] | None:
        return self._deferred.on_events

    @on_events.setter
    def on_events(self, hook: Callable[[str], None] | None) -> None:
        self._deferred.on_events = hook
        if self._deferred.chosen is not None:
            self._deferred.chosen.on_events = hook

    async def strategy(self) -> Versioned:
        deferred = self._deferred
        if deferred.chosen is None:
            chosen = (await self.table.store.adapter()).versioned(self.table, deferred.attempts)
            chosen.on_events = deferred.on_events
            deferred.chosen = chosen
        return deferred.chosen

    async def get(self, doc_id: str) -> Document | None:
        return await (await self.strategy()).get(doc_id)

    async def repair(self, docs: Sequence[Document]) -> int:
        return await (await self.strategy()).repair(docs)

    async def commit(self, doc_id: str, current: Document | None, step: Any) -> Document:
        return await (await self.strategy()).commit(doc_id, current, step)

    async def create_many(self, steps: Mapping[str, Any]) -> list[str]:
        return await (await self.strategy()).create_many(steps)

    async def transact(self, doc_id: str, decide: Any, **kwargs: Any) -> tuple[Document | None, bool]:
        return await (await self.strategy()).transact(doc_id, decide, **kwargs)

    async def history(self, doc: Document) -> list[Document]:
        return await (await self.strategy()).history(doc)

    async def delete(self, doc_id: str) -> None:
        """Remove a document and whatever its versions left."""
        await (await self.strategy()).delete(doc_id)

    async def forget_before(self, at: Any) -> None:
        """Drop what only served to write versions before `at` (nothing where versions leave nothing behind)."""
        await (await self.strategy()).forget_before(at)

    async def rewrite_steps(self, doc_id: str, rewrite: Callable[[Document], Document]) -> int:
        """Rewrite what the versions of `doc_id` left behind (see `Versioned.rewrite_steps`)."""
        return await (await self.strategy()).rewrite_steps(doc_id, rewrite)


async def adapter_for(db: AsyncDatabase[Document]) -> Adapter:
    """The adapter that suits the server `db` is on: FerretDB's `buildInfo` names its version."""
    from hoso.store.ferretdb import FerretDBAdapter
    from hoso.store.mongodb import MongoDBAdapter

    info = await db.client.admin.command("buildInfo")
    if "ferretdbVersion" in info:
        chosen: Adapter = FerretDBAdapter()
    else:
        hello = await db.client.admin.command("hello")
        chosen = MongoDBAdapter(transactions="setName" in hello)
    log.info("store.adapter", adapter=chosen.name, version=info.get("version"), ferretdb=info.get("ferretdbVersion"))
    return chosen


async def upsert(operation: Callable[[], Awaitable[T]]) -> T:
    """Run an upsert by `_id`, once more if it lost the creation race.

    FerretDB v1 runs an upsert as a read then a write, so two processes creating the same document at once can see a
    duplicate key; the second attempt finds the document and updates it.
    """
    try:
        return await operation()
    except DuplicateKeyError:
        return await operation()


_upsert = upsert

# Statements per command in `write_many`: FerretDB v1 splits a larger command into batches of 100 and goes on with
# the next batch after a refusal, even when the command is ordered.
_WRITE_CHUNK = 50


async def write_many(
    collection: AsyncCollection[Document], command: str, statements: Sequence[Document], *, ordered: bool
) -> list[int]:
    """Several inserts (documents) or updates (`{"q", "u", "upsert"}`) in few round trips.

    Returns the positions refused for a duplicate key (with `ordered`, the first refusal stops the rest); any other
    write error is raised. For updates a position may be earlier than the refused one (FerretDB v1 reports the first
    statement of the command), so what follows a refusal must be safe to apply again. A raw command rather than
    `bulk_write`: FerretDB v1 leaves `n` and `nModified` out of a reply with write errors, which PyMongo cannot read.
    """
    assert command in ("insert", "update")
    key = "documents" if command == "insert" else "updates"
    refused: list[int] = []
    for start in range(0, len(statements), _WRITE_CHUNK):
        chunk = list(statements[start : start + _WRITE_CHUNK])
        reply = await collection.database.command(
            {command: collection.name, key: chunk, "ordered": ordered}, session=session()
        )
        errors = reply.get("writeErrors", [])
        for error in errors:
            if error.get("code") != DUPLICATE_KEY:
                raise OperationFailure(error.get("errmsg", "write error"), error.get("code"), reply)
        refused.extend(start + int(error["index"]) for error in errors)
        if ordered and errors:
            break
    return sorted(refused)
