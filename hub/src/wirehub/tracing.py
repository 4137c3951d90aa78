"""OpenTelemetry tracing, as an option: one trace per execution, a span per step attempt.

An execution's trace id is its UUID (128 bits), so every process that runs one
of its attempts joins the same trace with nothing stored or passed along: an
attempt's span is a child of the execution's root context (derived from the
id, the same everywhere). The API's request span that started an execution
links to that trace. With ``WIREHUB_TRACING`` unset nothing is configured and
OpenTelemetry's no-op tracer costs next to nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from uuid import UUID

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags

logger = logging.getLogger("wirehub.tracing")

TRACER_NAME = "wirehub"
_configured = False


def configure_tracing(exporter_name: str | None, *, service: str) -> bool:
    """Installs a tracer provider exporting to ``exporter_name`` (``console`` or ``otlp``); once per process.

    ``otlp`` needs the ``opentelemetry-exporter-otlp`` distribution installed beside the hub
    and reads the standard ``OTEL_EXPORTER_OTLP_*`` variables. Returns whether tracing is on.
    """
    global _configured
    if exporter_name is None or _configured:
        return _configured
    exporter: SpanExporter
    if exporter_name == "console":
        exporter = ConsoleSpanExporter()
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter,
            )
        except ImportError:
            logger.warning("WIREHUB_TRACING=otlp needs `pip install opentelemetry-exporter-otlp`: tracing is off")
            return False
        exporter = OTLPSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True
    return True


def install_provider(provider: TracerProvider) -> None:
    """Uses ``provider`` for this process's spans (a test's in-memory exporter, an embedding application's)."""
    global _configured
    trace.set_tracer_provider(provider)
    _configured = True


def execution_context(execution_id: UUID | str) -> Context:
    """The root context of an execution's trace: its trace id is the execution's UUID.

    An id that is not a UUID (a test's ``"exec-1"``) gets a trace id derived from its text.
    """
    try:
        uuid = execution_id if isinstance(execution_id, UUID) else UUID(str(execution_id))
    except ValueError:
        uuid = UUID(bytes=hashlib.blake2b(str(execution_id).encode(), digest_size=16).digest())
    span_id = int.from_bytes(hashlib.blake2b(uuid.bytes, digest_size=8).digest(), "big") or 1
    parent = SpanContext(trace_id=uuid.int, span_id=span_id, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return trace.set_span_in_context(NonRecordingSpan(parent))


@contextlib.contextmanager
def attempt_span(execution_id: str, step_id: str, attempt: int, node_type: str) -> Iterator[Span]:
    """A span for one attempt of a step, in its execution's trace."""
    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(
        f"step {step_id}",
        context=execution_context(execution_id),
        kind=SpanKind.INTERNAL,
        attributes={
            "wirehub.execution_id": execution_id,
            "wirehub.step_id": step_id,
            "wirehub.attempt": attempt,
            "wirehub.node_type": node_type,
        },
    ) as span:
        yield span


def link_to_execution(execution_id: UUID) -> None:
    """Links the current span (an API request's) to the trace of the execution it started."""
    span = trace.get_current_span()
    if span.is_recording():
        parent = trace.get_current_span(execution_context(execution_id)).get_span_context()
        span.add_link(parent, {"wirehub.execution_id": str(execution_id)})
        span.set_attribute("wirehub.execution_id", str(execution_id))
