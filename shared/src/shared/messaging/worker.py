"""A service's worker: its outbox relay, its event consumers and its chores, side by side."""

from __future__ import annotations

from dataclasses import dataclass

from shared.chores import Chore
from shared.messaging.consumer import EventConsumer
from shared.messaging.relay import OutboxRelay
from shared.runtime import run_until_signalled


@dataclass(frozen=True, slots=True)
class Worker:
    relay: OutboxRelay
    consumers: tuple[EventConsumer, ...] = ()
    chores: tuple[Chore, ...] = ()

    async def run(self) -> None:
        """Relay, consumers and chores until SIGINT/SIGTERM."""
        await run_until_signalled(
            [self.relay.run, *(consumer.run for consumer in self.consumers), *(c.run for c in self.chores)]
        )
