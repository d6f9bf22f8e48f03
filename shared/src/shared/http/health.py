"""Liveness and readiness.

Live: the process answers. Ready: every dependency the service needs (its
database, NATS) answers now; otherwise 503 with the reason of each failure, so
an orchestrator stops routing traffic here until it recovers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler

from shared.http.openapi import problem_responses
from shared.http.problems import problem_response

CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    """A named probe; ``probe`` raises (or times out) when the dependency is not usable."""

    name: str
    probe: Callable[[State], Awaitable[None]]


class Liveness(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    checks: dict[str, str]


async def _run(check: ReadinessCheck, state: State) -> str | None:
    try:
        await asyncio.wait_for(check.probe(state), CHECK_TIMEOUT_S)
    except TimeoutError:
        return f"{check.name}: no answer within {CHECK_TIMEOUT_S:.0f}s"
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        return f"{check.name}: {type(exc).__name__}: {exc}"
    return None


def health_handlers(checks: Sequence[ReadinessCheck]) -> list[HTTPRouteHandler]:
    @get(
        "/health/live",
        operation_id="health_live",
        summary="Whether the process answers",
        tags=["health"],
        include_in_schema=True,
        sync_to_thread=False,
    )
    def live() -> Liveness:
        """Answers as long as the process serves requests, whatever its dependencies do: a
        failure here means restart it."""
        return Liveness(status="ok")

    @get(
        "/health/ready",
        operation_id="health_ready",
        summary="Whether every dependency answers",
        tags=["health"],
        responses=problem_responses(503),
    )
    async def ready(request: Request[Any, Any, State], state: State) -> Response[Any]:
        """Probes each dependency (the database, NATS) at once, each within a few seconds; a 503
        names every one that failed, so traffic goes elsewhere until they recover."""
        failures = [f for f in await asyncio.gather(*(_run(c, state) for c in checks)) if f]
        if failures:
            return problem_response(request, 503, "; ".join(failures), title="Not ready")
        return Response(Readiness(status="ok", checks={c.name: "ok" for c in checks}))

    return [live, ready]
