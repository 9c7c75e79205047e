"""Kafka consumers: parse the CloudEvent, apply it, commit after the effect; classify what fails.

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

from hoso.errors import PoisonMessage, is_transient
from hoso.events.catalog import EventType
from hoso.events.envelope import Envelope, from_kafka
from hoso.health import Readiness
from hoso.logs import get_logger
from hoso.metrics import EVENTS_DEAD_LETTERED, EVENTS_HANDLED, TRANSIENT_FAILURES
from hoso.topics import consumer_group, dlq_topic, retry_topic
from hoso.tracing import consuming

log = get_logger(__name__)

EventHandler = Callable[[Envelope], Awaitable[None]]

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
        group_id: str | None = None,
        max_attempts: int = 5,
        initial_backoff: float = 0.2,
        max_backoff: float = 10.0,
    ) -> None:
        self.service = service
        self.group_id = group_id or consumer_group(service)
        self._broker = broker
        self._readiness = readiness
        self._topics = list(topics)
        self._handlers = dict(handlers)
        self._max_attempts = max_attempts
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff

    @property
    def subscribed_topics(self) -> list[str]:
        return [*self._topics, *(retry_topic(t, self.service) for t in self._topics)]

    @property
    def dead_letter_topics(self) -> list[str]:
        return [dlq_topic(t, self.service) for t in self._topics]

    def register(self) -> None:
        """Declare the FastStream subscriber; call before the broker starts."""
        subscriber = self._broker.subscriber(
            *self.subscribed_topics,
            group_id=self.group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=_raw_body,
            title=f"{self.service}.lifecycle",
        )

        async def on_lifecycle_event(message: KafkaMessage) -> None:
            record = message.raw_message
            assert isinstance(record, ConsumerRecord)
            await self.process(record)

        subscriber(on_lifecycle_event)

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
            attributes = {
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.consumer.group.name": self.group_id,
                "messaging.message.id": event.id,
                "hoso.dossier_code": event.subject,
            }
            try:
                with consuming(event.traceparent, f"{event.type.short_name} process", attributes):
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
