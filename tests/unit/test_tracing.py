"""Trace context travels in events: created inside a span they carry it; a consumer span continues it."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from hoso.tracing import consuming, current_trace_id, current_traceparent
from tests.support import submitted_event

TRACER = TracerProvider().get_tracer("test")


def test_an_event_created_in_a_span_carries_its_traceparent_and_one_created_outside_carries_none() -> None:
    assert submitted_event().traceparent is None
    with TRACER.start_as_current_span("POST /api/v1/dossiers") as span:
        event = submitted_event()
        trace_id = f"{span.get_span_context().trace_id:032x}"
    assert event.traceparent is not None
    version, carried_trace, parent_span, flags = event.traceparent.split("-")
    assert (version, carried_trace) == ("00", trace_id)
    assert int(flags, 16) & 1  # sampled
    assert parent_span == f"{span.get_span_context().span_id:016x}"


def test_a_consumer_span_continues_the_event_trace_and_what_it_emits_stays_in_it() -> None:
    with TRACER.start_as_current_span("request") as span:
        traceparent = current_traceparent()
        trace_id = f"{span.get_span_context().trace_id:032x}"
    assert current_trace_id() is None
    trace.set_tracer_provider(TracerProvider())
    with consuming(traceparent, "dossier.submitted process", {"hoso.dossier_code": "X"}):
        assert current_trace_id() == trace_id
        emitted = submitted_event()
    assert emitted.traceparent is not None
    assert emitted.traceparent.split("-")[1] == trace_id
    with consuming(None, "dossier.submitted process", {}):
        assert current_trace_id() not in (None, trace_id)
