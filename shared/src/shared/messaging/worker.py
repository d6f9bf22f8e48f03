"""A service's worker: its outbox relay, its event consumers and its chores, side by side."""

from __future__ import annotations

from dataclasses import dataclass

from shared.chores import Chore
from shared.messaging.consumer import EventConsumer
from shared.messaging.relay import OutboxRelay
from shared.messaging.worker_endpoint import WorkerHealth, serve_worker_endpoint
from shared.runtime import run_until_signalled


@dataclass(frozen=True, slots=True)
class Worker:
    relay: OutboxRelay
    consumers: tuple[EventConsumer, ...] = ()
    chores: tuple[Chore, ...] = ()
    health: WorkerHealth | None = None
    metrics_port: int | None = None
    """Where the worker serves its Prometheus series and health (it has no HTTP API); None: nowhere."""
    metrics_host: str = "127.0.0.1"
    grace_s: float = 20.0
    """How long a signalled worker gives the relay's batch and each consumer's message in hand."""

    async def run(self) -> None:
        """Relay, consumers and chores until SIGINT/SIGTERM."""
        with serve_worker_endpoint(self.metrics_port, self.metrics_host, self.health):
            await run_until_signalled(
                [
                    *([self.health.run] if self.health is not None else []),
                    self.relay.run,
                    *(consumer.run for consumer in self.consumers),
                    *(chore.run for chore in self.chores),
                ],
                grace_s=self.grace_s,
            )
