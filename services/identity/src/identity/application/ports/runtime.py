"""How use cases meet time and work that runs after the answer."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol

from shared.kernel.clock import Clock


class Background(Protocol):
    """Runs work after the caller has its answer (so the answer's time cannot depend on it).

    Not transactional with the request: the work opens its own unit of work; failures are
    logged, never raised to the caller.
    """

    async def run(self, work: Coroutine[Any, Any, None], *, name: str) -> None: ...


__all__ = ["Background", "Clock"]
