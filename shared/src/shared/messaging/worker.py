"""A service's worker: its outbox relay, its event consumers and its chores, side by side."""

from __future__ import annotations

from dataclasses import dataclass

from shared.chores import Chore
from shared.messaging.consumer import EventConsumer
from shared.messaging.metrics import serve_worker_metrics
from shared.messaging.relay import OutboxRelay
from shared.runtime import run_until_signalled


@dataclass(frozen=True, slots=True)
class Worker:
    relay: OutboxRelay
    consumers: tuple[EventConsumer, ...] = ()
    chores: tuple[Chore, ...] = ()
    metrics_port: int | None = None
    """Where the worker serves its Prometheus series (it has no HTTP API); None: nowhere."""
    metrics_host: str = "127.0.0.1"

    async def run(self) -> None:
        """Relay, consumers and chores until SIGINT/SIGTERM."""
        with serve_worker_metrics(self.metrics_port, self.metrics_host):
            await run_until_signalled(
                [
                    self.relay.run,
                    *(consumer.run for consumer in self.consumers),
                    *(chore.run for chore in self.chores),
                ]
            )
