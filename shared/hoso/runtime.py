"""A service process's lifecycle: MongoDB, Kafka, outbox relays and consumers, started by role."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from hoso.auth import TokenVerifier
from hoso.consumer import BatchHandler, EventConsumer, EventHandler
from hoso.events.catalog import EVENT_MODELS, EventType, topic_of
from hoso.events.envelope import Envelope
from hoso.faults import is_transient
from hoso.health import Readiness
from hoso.kafka import create_broker, ensure_topics, publish_event
from hoso.lag import watch_lag
from hoso.logs import get_logger
from hoso.mongo import Document, IndexSpec, create_client, ensure_indexes, ping
from hoso.outbox import OutboxRelay, outbox_indexes
from hoso.settings import ServiceSettings
from hoso.store import Store, Table, VersionedTable

log = get_logger(__name__)

T = TypeVar("T")


class UndeclaredEvent(RuntimeError):
    """An outbox holds an event its service does not declare that it emits: a defect of the service's code."""


class ProcessRole(StrEnum):
    API = "api"
    WORKER = "worker"
    ALL = "all"

    @property
    def serves_http_api(self) -> bool:
        return self is not ProcessRole.WORKER

    @property
    def consumes(self) -> bool:
        return self is not ProcessRole.API


class Runtime:
    """Everything one process of a service holds; `bootstrap.py` of each service fills it in."""

    def __init__(self, settings: ServiceSettings, role: ProcessRole) -> None:
        self.settings = settings
        self.service = settings.service_name
        self.role = role
        self.readiness = Readiness()
        self.mongo: AsyncMongoClient[Document] = create_client(
            settings.mongodb_url,
            app_name=self.service,
            max_pool_size=settings.mongodb_max_pool_size,
            slow_ms=settings.mongodb_slow_ms,
        )
        self.db: AsyncDatabase[Document] = self.mongo[settings.database_name]
        # What repositories read and write through; its adapter is chosen at start-up from the server found.
        self.store = Store(self.db)
        self.broker: KafkaBroker = create_broker(
            settings.kafka_bootstrap_servers, client_id=f"{self.service}-{role.value}"
        )
        self.indexes: list[IndexSpec] = []
        self.topics: list[str] = []
        self.relays: list[OutboxRelay] = []
        # What this service publishes: each event type with the table whose outbox holds it.
        self.emits: dict[EventType, str] = {}
        self.consumer: EventConsumer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._start_hooks: list[Callable[[], Awaitable[None]]] = []
        self._background: list[Callable[[], Awaitable[None]]] = []
        self.readiness.add_check("mongodb", lambda: ping(self.mongo))
        self.readiness.add_check("kafka", self._kafka_check)

    async def _kafka_check(self) -> None:
        if not await self.broker.ping(timeout=2.0):
            raise ConnectionError("Kafka broker does not answer")

    def topic(self, name: str) -> str:
        """The Kafka topic of a logical topic name (KAFKA_TOPIC_PREFIX lets environments share a cluster)."""
        return self.settings.kafka_topic_prefix + name

    async def publish(self, topic: str, event: Envelope) -> None:
        await publish_event(self.broker, self.topic(topic), event)

    def add_indexes(self, specs: Sequence[IndexSpec]) -> None:
        self.indexes.extend(specs)

    def add_outbox(self, target: Table | VersionedTable, emits: Collection[EventType]) -> OutboxRelay:
        """Relay the outbox of a table, which holds events of the types `emits`; every role runs it (each process
        relays its own writes at once).

        Each type becomes a publisher of the service (the AsyncAPI document is made of them); the relay refuses to
        publish an event of a type not declared here, or to another topic than its type's.
        A VersionedTable tells the relay which document a step added events to; writers of a plain table call
        `relay.wake(doc_id)` themselves.
        """
        table = target.table if isinstance(target, VersionedTable) else target
        declared = frozenset(emits)
        for event_type in sorted(declared - self.emits.keys()):
            self._declare_publisher(event_type, table.name)

        async def publish(topic: str, event: Envelope) -> None:
            if event.type not in declared or topic != topic_of(event.type):
                raise UndeclaredEvent(
                    f"the outbox of {table.name} holds a {event.type.value} event for {topic}, which {self.service} "
                    f"does not declare"
                )
            await self.publish(topic, event)

        relay = OutboxRelay(
            table,
            publish,
            service=self.service,
            readiness=self.readiness,
            poll_seconds=self.settings.relay_poll_seconds,
        )
        if isinstance(target, VersionedTable):
            target.on_events = relay.wake
        self.indexes.extend(outbox_indexes(table.name))
        self.relays.append(relay)
        return relay

    def _declare_publisher(self, event_type: EventType, table: str) -> None:
        self.emits[event_type] = table
        topic = self.topic(topic_of(event_type))
        if topic not in self.topics:
            self.topics.append(topic)
        model = EVENT_MODELS[event_type]
        self.broker.publisher(
            topic,
            title=f"{topic}/{event_type.short_name}",
            schema=model,
            description=(
                f"CloudEvents type `{event_type.value}` in binary mode (attributes in `ce_*` headers, the record keyed "
                f"by the dossier id), emitted by {self.service} through the outbox of `{table}`. "
                f"{(model.__doc__ or '').strip()}"
            ).strip(),
        )

    def add_consumer(
        self,
        topics: Sequence[str],
        handlers: Mapping[EventType, EventHandler],
        batch_handler: BatchHandler | None = None,
    ) -> None:
        consumer = EventConsumer(
            service=self.service,
            broker=self.broker,
            readiness=self.readiness,
            topics=[self.topic(t) for t in topics],
            handlers=handlers,
            batch_handler=batch_handler,
            group_id=self.settings.consumer_group or None,
            max_attempts=self.settings.consumer_max_attempts,
            batch_size=self.settings.consumer_batch_size,
            concurrency=self.settings.consumer_concurrency,
        )
        # Every role knows the topics (publishers need them); only consuming roles subscribe.
        known = [*consumer.subscribed_topics, *consumer.dead_letter_topics]
        self.topics.extend(t for t in known if t not in self.topics)
        if self.role.consumes:
            consumer.register()
            self.consumer = consumer

    def on_start(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` at start-up once the indexes exist (retried while MongoDB or Kafka are unreachable)."""
        self._start_hooks.append(hook)

    def add_background(self, loop: Callable[[], Awaitable[None]]) -> None:
        """Run `loop` (a coroutine that runs until cancelled, such as a scheduler) once the process has started."""
        self._background.append(loop)

    def token_verifier(self) -> TokenVerifier | None:
        trusted = self.settings.trusted_issuers
        return TokenVerifier(audience=self.settings.jwt_audience, trusted=trusted) if trusted else None

    async def start(self) -> None:
        await _retry_while_transient("mongodb server", self.store.connect)
        await _retry_while_transient("mongodb indexes", lambda: ensure_indexes(self.db, self.indexes))
        await _retry_while_transient(
            "kafka topics",
            lambda: ensure_topics(
                self.settings.kafka_bootstrap_servers,
                self.topics,
                partitions=self.settings.kafka_topic_partitions,
                replication=self.settings.kafka_replication_factor,
            ),
        )
        for hook in self._start_hooks:
            await _retry_while_transient("start-up task", hook)
        await _retry_while_transient("kafka broker", self.broker.start)
        self._tasks = [asyncio.create_task(relay.run()) for relay in self.relays]
        self._tasks.extend(asyncio.create_task(_as_coroutine(loop)) for loop in self._background)
        if self.consumer is not None:
            watch = watch_lag(
                self.service,
                self.settings.kafka_bootstrap_servers,
                self.consumer.group_id,
                self.consumer.subscribed_topics,
                self.settings.lag_interval_seconds,
            )
            self._tasks.append(asyncio.create_task(watch))
        log.info("service.started", role=self.role.value, topics=len(self.topics))

    async def stop(self) -> None:
        """Stop within a bounded time: background tasks, then the broker (which lets the event in hand finish)."""
        for task in self._tasks:
            task.cancel()
        await _bounded("background tasks", asyncio.gather(*self._tasks, return_exceptions=True), 10.0)
        await _bounded("kafka broker", self.broker.stop(), 20.0)
        await _bounded("mongodb client", self.mongo.close(), 5.0)
        log.info("service.stopped", role=self.role.value)

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = self
        app.state.token_verifier = self.token_verifier()
        await self.start()
        try:
            yield
        finally:
            await self.stop()


async def _bounded(what: str, step: Awaitable[Any], seconds: float) -> None:
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        log.warning("service.stop_timed_out", step=what, seconds=seconds)


async def _as_coroutine(loop: Callable[[], Awaitable[None]]) -> None:
    await loop()


async def _retry_while_transient(what: str, action: Callable[[], Awaitable[Any]], *, limit: float = 120.0) -> None:
    """Start-up waits for MongoDB and Kafka to come back instead of crashing at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    delay = 0.5
    while True:
        try:
            await action()
            return
        except Exception as exc:
            if not is_transient(exc) or loop.time() + delay > deadline:
                raise
            log.warning("service.waiting_for_dependency", dependency=what, error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
