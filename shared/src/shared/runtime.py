"""Process runtime shared by every service's ``api`` and ``worker`` commands."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import structlog

_log = structlog.get_logger("runtime")


async def run_until_signalled(
    workers: Sequence[Callable[[asyncio.Event], Coroutine[Any, Any, None]]], *, grace_s: float = 20.0
) -> None:
    """Run ``workers`` until SIGINT/SIGTERM, then let each finish its current step.

    Each worker receives the stop event and must return soon after it is set (the relay
    finishes the batch in hand, a consumer the message in hand and gives back the rest);
    whatever still runs after ``grace_s`` is cancelled. A worker that crashes stops the
    process (the supervisor restarts it).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(worker(stop)) for worker in workers]
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not stopper and task.exception() is not None:
            _log.error("worker crashed", error=repr(task.exception()))
    stop.set()
    stopping_since = time.monotonic()
    _, unfinished = await asyncio.wait(tasks, timeout=grace_s)
    for task in tasks:
        task.cancel()
    stopper.cancel()
    _log.info(
        "stopped",
        drain_s=round(time.monotonic() - stopping_since, 3),
        cancelled=len(unfinished),
    )
