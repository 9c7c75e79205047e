"""Prometheus metrics every process exposes at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Histogram(
    "hoso_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route", "status"],
)
EVENTS_HANDLED = Histogram(
    "hoso_event_handler_duration_seconds",
    "Time to apply one consumed event",
    ["service", "event_type", "outcome"],
)
EVENTS_DEAD_LETTERED = Counter(
    "hoso_events_dead_lettered_total",
    "Events sent to the dead-letter topic",
    ["service", "topic", "reason"],
)
TRANSIENT_FAILURES = Counter(
    "hoso_transient_failures_total",
    "Transient infrastructure failures retried with backoff",
    ["service", "component"],
)
OUTBOX_PUBLISHED = Counter(
    "hoso_outbox_published_total",
    "Outbox entries published to Kafka",
    ["service"],
)
OUTBOX_BACKLOG = Gauge(
    "hoso_outbox_backlog",
    "Aggregates with unpublished outbox entries at the last relay pass",
    ["service"],
)
CONSUMER_LAG = Gauge(
    "hoso_consumer_lag",
    "Records of a topic the service's consumer group has not committed yet",
    ["service", "topic"],
)
NOTIFY_DELIVERIES = Counter(
    "hoso_notify_deliveries",
    "Delivery status changes in notify, by channel and the status reached",
    ["channel", "status"],
)
DOSSIERS = Gauge(
    "hoso_dossiers",
    "Dossiers known to records, by agency and public status code",
    ["agency", "status"],
)
DOSSIERS_OVERDUE = Gauge(
    "hoso_dossiers_overdue",
    "Open dossiers past their due date (not awaiting a supplement or fee), by agency",
    ["agency"],
)
