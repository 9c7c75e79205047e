"""Kafka consumers: parse the CloudEvent, apply it, commit after the effect; classify what fails.

Records are fetched in batches (up to `batch_size` per poll). A batch is split by key (the dossier id): each
dossier's records are applied one after the other in partition order, while different dossiers' records are applied
concurrently (at most `concurrency` at once). The offsets are committed once every record of the batch is applied,
ignored or dead-lettered, so a crash re-delivers at most one batch, which the handlers' idempotence absorbs.

A service whose writes batch well (records) also gives a batch handler: the batch's parseable events go to it in one
call; if it fails, the batch takes the one-by-one path above, with its retries and dead-lettering.

Transient faults (MongoDB or Kafka unreachable) are retried with backoff on the same message, holding the
partition and reporting not-ready until they pass. Poison messages (unparseable, schema-invalid, unknown
type, impossible transition) are published to `<topic>.dlq.<service>` with the reason in headers, and the
partition moves on. Other errors are retried a few times, then dead-lettered as `handler-error`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from hoso.errors import PoisonMessage
from hoso.events.catalog import EventType
from hoso.events.envelope import Envelope, from_kafka
from hoso.faults import is_transient
from hoso.health import Readiness
from hoso.logs import get_logger
from hoso.metrics import EVENTS_DEAD_LETTERED, EVENTS_HANDLED, TRANSIENT_FAILURES
from hoso.topics import consumer_group, dlq_topic, retry_topic
from hoso.tracing import consuming, consuming_batch

log = get_logger(__name__)

EventHandler = Callable[[Envelope], Awaitable[None]]
BatchHandler = Callable[[Sequence[Envelope]], Awaitable[None]]

DLQ_HEADERS = (
    "dlq_reason",
    "dlq_error",
    "dlq_service",
    "dlq_original_topic",
    "dlq_original_partition",
    "dlq_original_offset",
    "dlq_failed_at",
)


def _raw_body(message: StreamMessage[Any]) -> bytes:
    # Parsing is ours (poison must be dead-lettered, not crash the subscriber): hand over the bytes untouched.
    return message.body


class EventConsumer:
    """One service's consumer of the lifecycle topics, wired to handlers by event type."""

    def __init__(
        self,
        *,
        service: str,
        broker: KafkaBroker,
        readiness: Readiness,
        topics: Sequence[str],
        handlers: Mapping[EventType, EventHandler],
        batch_handler: BatchHandler | None = None,
        group_id: str | None = None,
        max_attempts: int = 5,
        initial_backoff: float = 0.2,
        max_backoff: float = 10.0,
        batch_size: int = 200,
        concurrency: int = 16,
    ) -> None:
        self.service = service
        self.group_id = group_id or consumer_group(service)
        self._broker = broker
        self._readiness = readiness
        self._topics = list(topics)
        self._handlers = dict(handlers)
        self._batch_handler = batch_handler
        self._max_attempts = max_attempts
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._batch_size = batch_size
        self._concurrency = concurrency

    @property
    def subscribed_topics(self) -> list[str]:
        return [*self._topics, *(retry_topic(t, self.service) for t in self._topics)]

    @property
    def dead_letter_topics(self) -> list[str]:
        return [dlq_topic(t, self.service) for t in self._topics]

    @property
    def topics(self) -> list[str]:
        """The topics this consumer reads (besides their retry topics)."""
        return list(self._topics)

    @property
    def applied_types(self) -> list[EventType]:
        """The event types this consumer applies; it commits the others unread."""
        return sorted(self._handlers, key=lambda t: t.value)

    def register(self) -> None:
        """Declare the FastStream subscriber; call before the broker starts."""
        subscriber = self._broker.subscriber(
            *self.subscribed_topics,
            group_id=self.group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=_raw_body,
            title=f"{self.service}.lifecycle",
            description=(
                f"Consumer group `{self.group_id}` reads {', '.join(f'`{t}`' for t in self._topics)} and the retry "
                f"topics an operator replays dead letters to; it applies "
                f"{', '.join(f'`{t.value}`' for t in self.applied_types)} at most once each, and skips the other "
                f"types. Poison messages go to {', '.join(f'`{t}`' for t in self.dead_letter_topics)} with the "
                f"reason in the `dlq_reason` header."
            ),
            batch=True,
            max_records=self._batch_size,
            batch_timeout_ms=50,
        )

        async def on_lifecycle_events(message: KafkaMessage) -> None:
            records = message.raw_message
            assert isinstance(records, tuple)
            await self.process_batch(records)

        subscriber(on_lifecycle_events)

    async def process_batch(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply a batch: in one call to the batch handler when there is one, else one by one."""
        if self._batch_handler is not None and await self._apply_batch(records):
            return
        await self.process_each(records)

    async def _apply_batch(self, records: Sequence[ConsumerRecord[Any, Any]]) -> bool:
        """Hand the batch's events to the batch handler; poison is dead-lettered. False when the handler failed."""
        assert self._batch_handler is not None
        events: list[tuple[ConsumerRecord[Any, Any], Envelope]] = []
        poison: list[ConsumerRecord[Any, Any]] = []
        for record in records:
            try:
                event = from_kafka(record.key, record.value, record.headers)
            except PoisonMessage:
                poison.append(record)
                continue
            if event.type in self._handlers:
                events.append((record, event))
        if events:
            started = time.perf_counter()
            try:
                with consuming_batch(
                    [(e.traceparent, f"{e.type.short_name} process", self._span_attributes(r, e)) for r, e in events]
                ):
                    await self._batch_handler([event for _, event in events])
            except Exception as exc:
                log.warning("consumer.batch_failed", events=len(events), error=f"{type(exc).__name__}: {exc}"[:500])
                return False
            elapsed = (time.perf_counter() - started) / len(events)
            for _, event in events:
                EVENTS_HANDLED.labels(self.service, event.type.short_name, "applied").observe(elapsed)
                log.info(
                    "consumer.event_applied",
                    event_type=event.type.short_name,
                    event_id=event.id,
                    dossier_code=event.subject,
                    correlation_id=event.correlationid,
                )
            self._readiness.recover("consumer")
        await self.process_each(poison)
        return True

    def _span_attributes(self, record: ConsumerRecord[Any, Any], event: Envelope) -> dict[str, Any]:
        return {
            "messaging.system": "kafka",
            "messaging.destination.name": record.topic,
            "messaging.consumer.group.name": self.group_id,
            "messaging.message.id": event.id,
            "hoso.dossier_code": event.subject,
        }

    async def process_each(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply records one by one: each key's records in order, different keys concurrently."""
        by_key: dict[object, list[ConsumerRecord[Any, Any]]] = {}
        for record in records:
            # Keyless records (only poison can be) have no order to keep.
            key = record.key if record.key is not None else (record.topic, record.partition, record.offset)
            by_key.setdefault(key, []).append(record)
        gate = asyncio.Semaphore(self._concurrency)

        async def in_order(group: list[ConsumerRecord[Any, Any]]) -> None:
            async with gate:
                for record in group:
                    await self.process(record)

        await asyncio.gather(*(in_order(group) for group in by_key.values()))

    async def process(self, record: ConsumerRecord[Any, Any]) -> None:
        """Apply one record; returns once it is applied, ignored or dead-lettered (then it may be committed)."""
        attempts = 0
        delay = self._initial_backoff
        dead_letter: tuple[str, str] | None = None
        while True:
            try:
                if dead_letter is None:
                    await self._apply(record)
                else:
                    await self._dead_letter(record, *dead_letter)
                self._readiness.recover("consumer")
                return
            except PoisonMessage as exc:
                dead_letter = (exc.reason, exc.detail)
                continue
            except Exception as exc:
                if is_transient(exc):
                    TRANSIENT_FAILURES.labels(self.service, "consumer").inc()
                    self._readiness.degrade("consumer", f"{type(exc).__name__}: {exc}")
                    log.warning("consumer.transient_failure", error=f"{type(exc).__name__}: {exc}", retry_in=delay)
                else:
                    attempts += 1
                    log.exception("consumer.handler_error", attempt=attempts)
                    if attempts >= self._max_attempts:
                        dead_letter = ("handler-error", f"{type(exc).__name__}: {exc}"[:1000])
                        continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _apply(self, record: ConsumerRecord[Any, Any]) -> None:
        event = from_kafka(record.key, record.value, record.headers)
        handler = self._handlers.get(event.type)
        with structlog.contextvars.bound_contextvars(
            event_id=event.id, dossier_code=event.subject, correlation_id=event.correlationid
        ):
            if handler is None:
                return
            started = time.perf_counter()
            outcome = "error"
            try:
                name = f"{event.type.short_name} process"
                with consuming(event.traceparent, name, self._span_attributes(record, event)):
                    await handler(event)
                outcome = "applied"
            finally:
                EVENTS_HANDLED.labels(self.service, event.type.short_name, outcome).observe(
                    time.perf_counter() - started
                )
            log.info("consumer.event_applied", event_type=event.type.short_name)

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], reason: str, detail: str) -> None:
        original_topic = record.topic.split(".retry.", 1)[0]
        headers = {name: value.decode(errors="replace") for name, value in record.headers or ()}
        headers.update(
            {
                "dlq_reason": reason,
                "dlq_error": detail[:2000],
                "dlq_service": self.service,
                "dlq_original_topic": original_topic,
                "dlq_original_partition": str(record.partition),
                "dlq_original_offset": str(record.offset),
                "dlq_failed_at": datetime.now(UTC).isoformat(),
            }
        )
        topic = dlq_topic(original_topic, self.service)
        await self._broker.publish(record.value or b"", topic, key=record.key, headers=headers)
        EVENTS_DEAD_LETTERED.labels(self.service, original_topic, reason).inc()
        log.warning(
            "consumer.dead_lettered",
            reason=reason,
            error=detail[:500],
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )
