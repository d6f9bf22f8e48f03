"""Periodic clean-ups a service's worker runs beside its relay and consumers.

A chore is idempotent work on the service's own data (deleting what has expired, say),
done in bounded batches, so that several worker replicas may run it at once. A round
that fails (the database restarting...) is logged and tried again at the next one: a
chore never stops the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

_log = structlog.get_logger("chores")


@dataclass(frozen=True, slots=True, kw_only=True)
class Chore:
    name: str
    every_s: float
    work: Callable[[], Awaitable[int]]
    """One round; returns how many rows it cleaned up, for the log."""

    async def run(self, stop: asyncio.Event) -> None:
        """A round at start, then one every ``every_s`` seconds until ``stop``."""
        while not stop.is_set():
            try:
                done = await self.work()
            except Exception as exc:
                _log.warning("chore failed; retried next round", chore=self.name, error=repr(exc))
            else:
                if done:
                    _log.info("chore done", chore=self.name, rows=done)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every_s)
