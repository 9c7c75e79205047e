"""Integration fixtures: the real Kafka broker and the real FerretDB/MongoDB, isolated per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker
from hoso_dev.keys import ensure_dev_keys
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from hoso.kafka import create_broker, ensure_topics
from hoso.mongo import Document, create_client
from hoso.store import Adapter, Store
from hoso.store.ferretdb import FerretDBAdapter
from hoso.store.mongodb import MongoDBAdapter
from tests.support import unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
async def mongo(mongo_url: str) -> AsyncIterator[AsyncMongoClient[Document]]:
    client = create_client(mongo_url, app_name="tests")
    await client.admin.command("ping")
    yield client
    await client.close()


@pytest.fixture
async def database(mongo: AsyncMongoClient[Document]) -> AsyncDatabase[Document]:
    # A database of its own per test. Not dropped afterwards: FerretDB v1 has crashed (SIGBUS in SQLite's WAL)
    # when a database was dropped while its connections were still open; `make test` starts from empty storage.
    return mongo[unique("test").replace("-", "_")]


class CommandLog(monitoring.CommandListener):
    """The (command, collection) of every command a client sent, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.filters: list[tuple[str, Document]] = []  # (collection, filter) of every find

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        self.sent.append((event.command_name, target if isinstance(target, str) else ""))
        if event.command_name == "find":
            self.filters.append((str(target), dict(event.command.get("filter", {}))))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def clear(self) -> None:
        self.sent.clear()
        self.filters.clear()

    def count(self, command: str, collection: str) -> int:
        return self.sent.count((command, collection))


@pytest.fixture
async def logged(mongo_url: str) -> AsyncIterator[tuple[AsyncDatabase[Document], CommandLog]]:
    """A database of its own on a client that logs every command it sends."""
    log = CommandLog()
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True, event_listeners=[log])
    yield client[unique("test").replace("-", "_")], log
    await client.close()


@pytest.fixture
async def topic(kafka_bootstrap: str) -> str:
    name = unique("test.events")
    await ensure_topics(kafka_bootstrap, [name], partitions=3)
    return name


@pytest.fixture
async def broker(kafka_bootstrap: str) -> AsyncIterator[KafkaBroker]:
    b = create_broker(kafka_bootstrap, client_id="tests")
    await b.start()
    yield b
    await b.stop()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    ensure_dev_keys(tmp_path)
    return tmp_path


@pytest.fixture(params=["ferretdb", "mongodb"])
async def adapter(request: pytest.FixtureRequest, mongo: AsyncMongoClient[Document]) -> Adapter:
    """Both adapters of the persistence port. Each is correct on either server (FerretDB's only asks by `_id`,
    MongoDB's queries are valid on FerretDB, only slower), so both run against the server the tests have."""
    if request.param == "ferretdb":
        return FerretDBAdapter()
    return MongoDBAdapter(transactions="setName" in await mongo.admin.command("hello"))


@pytest.fixture
def store(database: AsyncDatabase[Document], adapter: Adapter) -> Store:
    """The test's database through each adapter in turn."""
    return Store(database, adapter)
