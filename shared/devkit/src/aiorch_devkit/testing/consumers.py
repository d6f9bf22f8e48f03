"""One of a service's event consumers running as its worker wires it, for a test's duration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def running_consumer(service_root: Any, settings: Any, name: str) -> AsyncIterator[Any]:
    """The consumer called ``name`` of ``service_root``'s worker (on ``settings``), consuming until
    the block ends; yields it (its spec, its run)."""
    async with service_root.open_worker(settings) as worker:
        (found,) = [c for c in worker.consumers if c.spec.name == name]
        stop = asyncio.Event()
        task = asyncio.create_task(found.run(stop))
        try:
            yield found
        finally:
            stop.set()
            await task
