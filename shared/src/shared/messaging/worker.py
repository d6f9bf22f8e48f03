"""A service's event worker: its outbox relay and its event consumers, side by side."""

from __future__ import annotations

from dataclasses import dataclass

from shared.messaging.consumer import EventConsumer
from shared.messaging.relay import OutboxRelay
from shared.runtime import run_until_signalled


@dataclass(frozen=True, slots=True)
class Worker:
    relay: OutboxRelay
    consumers: tuple[EventConsumer, ...] = ()

    async def run(self) -> None:
        """Relay and consumers until SIGINT/SIGTERM."""
        await run_until_signalled([self.relay.run, *(consumer.run for consumer in self.consumers)])
