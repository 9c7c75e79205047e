"""structlog JSON logging with request/correlation context and masking of personal data."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

# Context keys bound per request or per event (structlog.contextvars).
CONTEXT_KEYS = ("request_id", "correlation_id", "dossier_code", "event_id")

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
# Vietnamese mobile and landline numbers: 0xxxxxxxxx or +84 / 84 followed by 9 digits, with optional separators.
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.-]?\d){8,9}(\d)(?!\d)")
# Citizen identity card (12 digits) and the old identity card (9 digits).
_NATIONAL_ID = re.compile(r"(?<!\d)(\d{12}|\d{9})(?!\d)")


def mask_text(text: str) -> str:
    """Mask e-mail addresses, phone numbers and national id numbers in free text."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _PHONE.sub(lambda m: f"***{m.group(1)}", text)
    return _NATIONAL_ID.sub(lambda m: "*" * (len(m.group(1)) - 3) + m.group(1)[-3:], text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    return value


_UNMASKED_KEYS = frozenset({"timestamp", "level", "service", "logger", *CONTEXT_KEYS})


def mask_personal_data(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: personal data never reaches the log stream."""
    for key, value in list(event_dict.items()):
        if key not in _UNMASKED_KEYS:
            event_dict[key] = _mask_value(value)
    return event_dict


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stdout is at the time of the record (it may be replaced after configuration)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON logs on stdout, one object per line, with the service name and bound context."""

    def add_service(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    shared: list[Any] = [
        add_service,
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_personal_data,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.JSONRenderer(ensure_ascii=False)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    # Library loggers (uvicorn, aiokafka, pymongo) go through the same JSON renderer.
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
    )
    handler = _StdoutHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for name in ("uvicorn.error", "faststream"):
        logging.getLogger(name).setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
