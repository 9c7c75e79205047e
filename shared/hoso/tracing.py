"""OpenTelemetry traces that follow a dossier from the HTTP request through Kafka into every consumer.

An HTTP request gets a server span (FastAPI instrumentation, honouring an incoming W3C `traceparent`); an event
created while a span is current carries that span's `traceparent` (a CloudEvents extension attribute, a `ce_traceparent`
header on Kafka); a consumer applies each event inside a span whose parent is the event's `traceparent`, so the events
it emits continue the same trace. Spans go to an OTLP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and to a
JSON-lines file per process under `HOSO_TRACE_DIR` when that is set (local runs, tests); otherwise only the context
travels.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_configured = False
_lock = threading.Lock()


class JsonLinesExporter(SpanExporter):
    """One JSON object per finished span, appended to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(json.loads(span.to_json()), separators=(",", ":")) + "\n" for span in spans]
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.writelines(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def setup_tracing(service: str, role: str) -> None:
    """Install the process's tracer provider once (the first service built in a process names it)."""
    global _configured
    with _lock:
        if _configured:
            return
        provider = TracerProvider(resource=Resource.create({"service.name": f"hoso-{service}", "hoso.role": role}))
        if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace_dir = os.environ.get("HOSO_TRACE_DIR")
        if trace_dir:
            path = Path(trace_dir) / f"{service}-{role}-{os.getpid()}.jsonl"
            provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(path)))
        trace.set_tracer_provider(provider)
        _configured = True


def tracer() -> trace.Tracer:
    return trace.get_tracer("hoso")


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span, if one is recording or was received."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def consuming(traceparent: str | None, name: str, attributes: dict[str, Any]) -> Iterator[None]:
    """A consumer span continuing the trace of the event being applied."""
    parent = _PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else None
    with (
        tracer().start_as_current_span(name, context=parent, kind=trace.SpanKind.CONSUMER, attributes=attributes),
        structlog.contextvars.bound_contextvars(trace_id=current_trace_id()),
    ):
        yield


@contextmanager
def consuming_batch(spans: Sequence[tuple[str | None, str, dict[str, Any]]]) -> Iterator[None]:
    """One consumer span per event of a batch applied together, each continuing its event's trace."""
    started = [
        tracer().start_span(
            name,
            context=_PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else None,
            kind=trace.SpanKind.CONSUMER,
            attributes=attributes,
        )
        for traceparent, name, attributes in spans
    ]
    try:
        yield
    except Exception as exc:
        for span in started:
            span.record_exception(exc)
            span.set_status(trace.StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        for span in started:
            span.end()


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None
