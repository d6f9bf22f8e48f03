"""Budgets: how many messages and model tokens a user may spend per fixed window.

Rules:
* windows are fixed and aligned to the epoch: the one holding ``now`` starts at
  ``floor(epoch(now) / window_seconds) * window_seconds``, so every process agrees on it
  without coordination, and everything resets at once when it ends;
* a request is refused (``BudgetExceeded``, 429 with ``Retry-After``) when the messages or the
  tokens already spent in the current window reached their limit: checked before a model is
  called, so the last answer of a window may overshoot the token limit, never start past it;
* one posted message counts when it is posted, its tokens when the answer completes;
* limits are the system settings as chat's replica knows them (``ChatLimits``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

from chat.application.ports import UnitOfWork
from chat.domain.limits import ChatLimits
from shared.kernel.errors import TooManyRequests

Budget = Literal["messages", "tokens"]


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime


def window_at(now: datetime, window_seconds: int) -> Window:
    """The fixed window holding ``now``."""
    start = math.floor(now.timestamp() / window_seconds) * window_seconds
    begins = datetime.fromtimestamp(start, UTC)
    return Window(start=begins, end=begins + timedelta(seconds=window_seconds))


class BudgetExceeded(TooManyRequests):
    """The caller spent the window's ``which`` budget; it resets at ``resets_at`` (429)."""

    title = "Budget exceeded"

    def __init__(self, *, which: Budget, limit: int, resets_at: datetime, retry_after_s: int) -> None:
        unit = "messages" if which == "messages" else "model tokens"
        super().__init__(
            f"You used your {limit} {unit} of this budget window; it resets at "
            f"{resets_at.isoformat()} (in {retry_after_s} s).",
            retry_after_s=retry_after_s,
        )
        self.which: Budget = which
        self.resets_at = resets_at


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageView:
    window_seconds: int
    window_start: datetime
    resets_at: datetime
    messages_used: int
    messages_limit: int
    tokens_used: int
    tokens_limit: int


async def check_budget(owner_id: UUID, now: datetime, limits: ChatLimits, uow: UnitOfWork) -> None:
    """Refuses when ``owner_id`` has no budget left in the window holding ``now``, inside
    ``uow``'s open transaction (never commits).

    Raises:
        BudgetExceeded: the messages or the tokens spent reached their limit.
    """
    window = window_at(now, limits.window_seconds)
    messages, tokens = await uow.usage.spent(owner_id, window.start)
    _refuse_when_spent(messages, tokens, limits, window, now)


async def charge_message(owner_id: UUID, now: datetime, limits: ChatLimits, uow: UnitOfWork) -> None:
    """Counts one message to ``owner_id``'s window and refuses it when that passes the message
    budget, or the window's tokens are spent, inside ``uow``'s open transaction (never commits;
    refused, the caller's transaction rolls back, the count with it). One statement: two posts
    at once are counted in turn on the window's row, so they cannot both take the last message.

    Raises:
        BudgetExceeded: the messages or the tokens of the window are spent.
    """
    window = window_at(now, limits.window_seconds)
    messages, tokens = await uow.usage.add(owner_id, window.start, 1, 0)
    _refuse_when_spent(messages - 1, tokens, limits, window, now)  # what was spent before this one


def _refuse_when_spent(messages: int, tokens: int, limits: ChatLimits, window: Window, now: datetime) -> None:
    """Raises BudgetExceeded when ``messages`` or ``tokens`` already spent in ``window`` reach a limit."""
    which: Budget | None = None
    if messages >= limits.messages_per_window:
        which, limit = "messages", limits.messages_per_window
    elif tokens >= limits.tokens_per_window:
        which, limit = "tokens", limits.tokens_per_window
    if which is not None:
        retry_after_s = max(1, math.ceil((window.end - now).total_seconds()))
        raise BudgetExceeded(which=which, limit=limit, resets_at=window.end, retry_after_s=retry_after_s)


async def record_usage(
    owner_id: UUID, now: datetime, limits: ChatLimits, uow: UnitOfWork, *, messages: int = 0, tokens: int = 0
) -> None:
    """Counts ``messages`` and ``tokens`` in the window holding ``now``, inside ``uow``'s open
    transaction (never commits: the caller's write and its cost commit together)."""
    if messages or tokens:
        await uow.usage.add(owner_id, window_at(now, limits.window_seconds).start, messages, tokens)


async def usage_of(owner_id: UUID, now: datetime, uow: UnitOfWork) -> UsageView:
    """What ``owner_id`` spent in the current window, against the limits in force."""
    async with uow:
        limits = await uow.settings.limits()
        window = window_at(now, limits.window_seconds)
        messages, tokens = await uow.usage.spent(owner_id, window.start)
    return UsageView(
        window_seconds=limits.window_seconds,
        window_start=window.start,
        resets_at=window.end,
        messages_used=messages,
        messages_limit=limits.messages_per_window,
        tokens_used=tokens,
        tokens_limit=limits.tokens_per_window,
    )
