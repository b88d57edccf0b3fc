"""OpenTelemetry tracing: one trace from an HTTP request through every event hop.

The W3C ``traceparent`` travels in HTTP headers, in outbox rows (so a relay publishing later
continues the request's trace) and in Kafka record headers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)

from shared.settings import ServiceSettings

TRACER_NAME = "inspraak"


def configure_tracing(settings: ServiceSettings) -> TracerProvider | None:
    """Install a tracer provider when an exporter is configured; otherwise tracing is a no-op."""
    if not (settings.otel_exporter_otlp_endpoint or settings.otel_traces_file):
        return None
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"inspraak-{settings.service_name}"})
    )
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if settings.otel_traces_file:
        # A JSON-lines file ("{service}" in the path becomes the service's name): how tests
        # and local runs read spans back without a collector.
        path = settings.otel_traces_file.format(service=settings.service_name)
        out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the provider
        provider.add_span_processor(
            SimpleSpanProcessor(ConsoleSpanExporter(out=out, formatter=_one_line))
        )
    trace.set_tracer_provider(provider)
    return provider


def _one_line(span: ReadableSpan) -> str:
    return json.dumps(json.loads(span.to_json())) + "\n"


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


def context_from(traceparent: str | None) -> Context | None:
    if not traceparent:
        return None
    return extract({"traceparent": traceparent})


def context_from_headers(headers: Mapping[str, Any]) -> Context | None:
    """The trace context in HTTP or Kafka headers (Kafka's values are bytes)."""
    carrier = {
        name.lower(): value.decode("latin-1") if isinstance(value, bytes) else str(value)
        for name, value in headers.items()
        if name.lower() in ("traceparent", "tracestate")
    }
    if not carrier:
        return None
    try:
        return extract(carrier)
    except ValueError:
        return None  # a malformed trace header must never stop an event
