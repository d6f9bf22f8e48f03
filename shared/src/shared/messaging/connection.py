"""NATS connections configured for production: reconnect forever, log state changes.

While the broker is away the client fails a reconnection every half second; those errors
are folded into one line per ``error_log_interval_s`` with a count, and the reconnection
line says how many there were.
"""

from __future__ import annotations

import asyncio

import nats
import structlog
from nats.aio.client import Client

from shared.logging import RateLimitedLog

_log = structlog.get_logger("nats")


async def connect_nats(
    url: str,
    *,
    name: str,
    connect_timeout: float = 2.0,
    wait: float | None = None,
    error_log_interval_s: float = 30.0,
) -> Client:
    """Connect, retrying the first connection too (for up to ``wait`` seconds; forever if None).

    After the first connection nats-py reconnects by itself, forever, and
    re-subscribes; pull consumers are re-created by their supervisors.
    """

    connected: list[Client] = []
    errors = RateLimitedLog(_log, interval_s=error_log_interval_s)

    async def disconnected() -> None:
        # nats-py reports our own close() as a disconnection too; only a lost link is news
        if connected and connected[0].is_closed:
            return
        _log.warning("nats disconnected")

    async def reconnected() -> None:
        errors.settle("nats reconnected")

    async def error(exc: Exception) -> None:
        errors.warning("nats error", error=f"{type(exc).__name__}: {exc}")

    loop = asyncio.get_running_loop()
    deadline = None if wait is None else loop.time() + wait
    delay = 0.1
    while True:
        try:
            client = await nats.connect(
                servers=[url],
                name=name,
                connect_timeout=connect_timeout,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                allow_reconnect=True,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
                # buffer publishes while reconnecting instead of failing at once
                pending_size=64 * 1024 * 1024,
            )
        except Exception as exc:  # nats raises several unrelated types for "not reachable"
            if deadline is not None and loop.time() + delay > deadline:
                raise ConnectionError(f"NATS at {url} not reachable: {type(exc).__name__}: {exc}") from exc
            errors.warning("nats not reachable yet", error=type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
        else:
            if errors.held_back:
                errors.settle("nats reachable")
            connected.append(client)
            return client
