from opentelemetry import trace

from shared.telemetry import context_from_headers

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_trace_context_is_read_from_kafka_headers_whose_values_are_bytes() -> None:
    context = context_from_headers({"traceparent": TRACEPARENT.encode(), "ce_id": b"1"})
    assert context is not None
    span = trace.get_current_span(context).get_span_context()
    assert f"{span.trace_id:032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_missing_or_malformed_trace_headers_give_no_context() -> None:
    assert context_from_headers({"ce_id": b"1"}) is None
    malformed = context_from_headers({"traceparent": b"\xff\x00garbage"})
    assert not trace.get_current_span(malformed).get_span_context().is_valid
