"""NATS connections configured for production: reconnect forever, log state changes."""

from __future__ import annotations

import asyncio

import nats
import structlog
from nats.aio.client import Client

_log = structlog.get_logger("nats")


async def connect_nats(
    url: str, *, name: str, connect_timeout: float = 2.0, wait: float | None = None
) -> Client:
    """Connect, retrying the first connection too (for up to ``wait`` seconds; forever if None).

    After the first connection nats-py reconnects by itself, forever, and
    re-subscribes; pull consumers are re-created by their supervisors.
    """

    connected: list[Client] = []

    async def disconnected() -> None:
        # nats-py reports our own close() as a disconnection too; only a lost link is news
        if connected and connected[0].is_closed:
            return
        _log.warning("nats disconnected")

    async def reconnected() -> None:
        _log.info("nats reconnected")

    async def error(exc: Exception) -> None:
        _log.warning("nats error", error=f"{type(exc).__name__}: {exc}")

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
            _log.warning("nats not reachable yet", error=type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
        else:
            connected.append(client)
            return client
