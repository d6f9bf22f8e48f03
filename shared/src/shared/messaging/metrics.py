"""Prometheus series of the event path: outbox backlog, relay, consumers, dead letters.

The API's ``/metrics`` serves them where they are recorded in the API process; the worker,
which runs the relay and the consumers and has no HTTP server, serves its own registry on
``worker_metrics_port`` (:mod:`shared.messaging.worker_endpoint`). Every series is labelled with the
``service`` (identity, chat, orchestrator), consumers' also with the ``consumer``.
"""

from __future__ import annotations

import os
from typing import Final

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge
from prometheus_client.multiprocess import MultiProcessCollector

PREFIX: Final = "aiorch"

OUTBOX_BACKLOG: Final = Gauge(
    f"{PREFIX}_outbox_backlog",
    "Outbox rows committed and not yet published (sampled by the active relay)",
    labelnames=("service",),
    multiprocess_mode="mostrecent",
)
OUTBOX_OLDEST_AGE: Final = Gauge(
    f"{PREFIX}_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest unpublished outbox row, 0 when none (sampled by the active relay)",
    labelnames=("service",),
    multiprocess_mode="mostrecent",
)
RELAY_PUBLISHED: Final = Counter(
    f"{PREFIX}_relay_published_total",
    "Outbox rows JetStream acknowledged and the relay marked sent",
    labelnames=("service",),
)
RELAY_DUPLICATES: Final = Counter(
    f"{PREFIX}_relay_duplicates_total",
    "Re-publishes JetStream dropped as duplicates (a relay died between publish and mark-sent)",
    labelnames=("service",),
)
CONSUMER_PENDING: Final = Gauge(
    f"{PREFIX}_consumer_pending",
    "Messages of the stream the durable consumer has not been delivered yet (its lag)",
    labelnames=("service", "consumer"),
    multiprocess_mode="mostrecent",
)
CONSUMER_ACK_PENDING: Final = Gauge(
    f"{PREFIX}_consumer_ack_pending",
    "Messages delivered to the durable consumer and not acknowledged yet",
    labelnames=("service", "consumer"),
    multiprocess_mode="mostrecent",
)
CONSUMER_APPLIED: Final = Counter(
    f"{PREFIX}_consumer_applied_total",
    "Events a consumer applied (redeliveries of applied events not counted)",
    labelnames=("service", "consumer"),
)
CONSUMER_REDELIVERIES: Final = Counter(
    f"{PREFIX}_consumer_redeliveries_total",
    "Deliveries of a message that had been delivered before (a retry, a crash, an ack lost)",
    labelnames=("service", "consumer"),
)
DEAD_LETTERS: Final = Counter(
    f"{PREFIX}_dead_letters_total",
    "Messages a consumer parked on the dead-letter stream",
    labelnames=("service", "consumer"),
)


def service_of(consumer: str) -> str:
    """Durable consumers are named ``<consumer-service>.<purpose>``."""
    return consumer.partition(".")[0]


def metrics_registry() -> CollectorRegistry:
    """The registry to expose: this process's, or every API worker's in multiprocess mode."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
