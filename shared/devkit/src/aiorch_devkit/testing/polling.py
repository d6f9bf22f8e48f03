"""Waiting for what happens asynchronously (a consumer applying, a relay publishing)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within_s: float = 10.0, interval_s: float = 0.05
) -> None:
    """Wait until the async ``check`` returns true; fail after ``within_s`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"not true after {within_s}s: {getattr(check, '__name__', check)}")
        await asyncio.sleep(interval_s)
