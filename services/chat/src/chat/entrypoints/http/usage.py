"""``/usage``: what I spent of my budget in the current window, against its limits."""

from __future__ import annotations

from litestar import get

from chat.application.budgets import usage_of
from chat.entrypoints.http.dependencies import UnitOfWorkDep
from chat.entrypoints.http.openapi import problems
from chat.entrypoints.http.usage_schemas import UsageResponse
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.kernel.clock import SystemClock

_CLOCK = SystemClock()


@get(
    "/api/v1/usage",
    operation_id="get_usage",
    summary="My budget usage",
    tags=["usage"],
    security=BEARER_SECURITY,
    responses=problems(401),
)
async def get_usage(principal: CurrentPrincipal, uow: UnitOfWorkDep) -> UsageResponse:
    """The messages and model tokens I spent in the current fixed budget window, the limits the
    system settings set for each, and when the window resets. A message counts when it is sent,
    its answer's tokens when the answer finishes; once either count reaches its limit, sending
    is refused with 429 and `Retry-After` until `resets_at`."""
    return UsageResponse.of(await usage_of(principal.user_id, _CLOCK.now(), uow))
