"""Every event type of the contract, by CloudEvents ``type`` and by producing service."""

from __future__ import annotations

from shared.contracts import advisory, budgets, initiatives, notifications
from shared.contracts.base import EventData

EVENTS_BY_PRODUCER: dict[str, tuple[type[EventData], ...]] = {
    "initiatives": initiatives.EVENTS,
    "advisory": advisory.EVENTS,
    "budgets": budgets.EVENTS,
    "notifications": notifications.EVENTS,
}
EVENT_TYPES: dict[str, type[EventData]] = {
    model.event_type(): model for models in EVENTS_BY_PRODUCER.values() for model in models
}
TOPICS: dict[str, str] = {
    producer: models[0].topic() for producer, models in EVENTS_BY_PRODUCER.items()
}
