"""Topic names, consumer groups and CloudEvents sources: one spelling for the whole platform."""

from __future__ import annotations

DOSSIER_EVENTS = "dossier.events.v1"
NOTIFICATION_EVENTS = "notification.events.v1"

SERVICES = ("intake", "review", "notify", "records")


def dlq_topic(topic: str, service: str) -> str:
    """Where `service` dead-letters what it cannot process from `topic`."""
    return f"{topic}.dlq.{service}"


def retry_topic(topic: str, service: str) -> str:
    """Where an operator replays `service`'s dead letters; only that service's group reads it."""
    return f"{topic}.retry.{service}"


def consumer_group(service: str) -> str:
    return service


def event_source(service: str) -> str:
    return f"/hoso/{service}"
