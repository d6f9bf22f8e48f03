"""Work that runs after the answer: :class:`~identity.application.services.Background`
backed by tasks on the event loop, awaited at shutdown (and by tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

_log = structlog.get_logger("identity.background")


class TaskSet:
    def __init__(self, *, drain_timeout: float = 10.0) -> None:
        self._drain_timeout = drain_timeout
        self._pending: set[asyncio.Task[None]] = set()

    async def run(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        task = asyncio.create_task(self._guarded(work, name), name=name)
        # The loop keeps only weak references to tasks: hold one until it is done.
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        while self._pending:
            await asyncio.wait(set(self._pending), timeout=self._drain_timeout)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except Exception:
            _log.exception("background work failed", work=name)
