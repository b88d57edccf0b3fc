"""The Prometheus series every service exposes on /metrics (named in the README)."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "inspraak_events_consumed_total", "Events applied by a consumer", ["service", "topic"]
)
EVENTS_DUPLICATE = Counter(
    "inspraak_events_duplicate_total", "Redelivered events skipped by the inbox", ["service"]
)
EVENTS_PUBLISHED = Counter(
    "inspraak_events_published_total", "Events published by the outbox relay", ["service", "topic"]
)
EVENTS_FAILED = Counter(
    "inspraak_events_failed_total",
    "Transient failures while consuming or publishing (retried)",
    ["service", "stage"],
)
EVENTS_DEAD_LETTERED = Counter(
    "inspraak_events_dead_lettered_total",
    "Events sent to a dead-letter topic",
    ["service", "topic"],
)
OUTBOX_BACKLOG = Gauge(
    "inspraak_outbox_backlog", "Outbox rows waiting to be published", ["service"]
)
CONSUMER_LAG = Gauge(
    "inspraak_consumer_lag", "Records between committed offset and end offset", ["service", "topic"]
)
HTTP_REQUESTS = Counter(
    "inspraak_http_requests_total", "HTTP requests served", ["service", "method", "status"]
)
HANDLE_SECONDS = Histogram(
    "inspraak_consume_batch_seconds", "Time to apply one consumed batch", ["service"]
)
