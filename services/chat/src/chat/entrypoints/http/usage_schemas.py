"""The ``/usage`` response: what the caller spent of the current budget window."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from chat.application.budgets import UsageView


class Spent(msgspec.Struct, frozen=True, kw_only=True):
    used: Annotated[int, msgspec.Meta(ge=0, description="Spent in the current window.")]
    limit: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            description="What the window allows; once `used` reaches it, requests get 429 until it resets.",
        ),
    ]


class UsageResponse(msgspec.Struct, frozen=True, kw_only=True):
    window_seconds: Annotated[
        int,
        msgspec.Meta(
            ge=60, description="Length of a budget window (the setting `chat.budget.window_seconds`)."
        ),
    ]
    window_start: Annotated[
        datetime,
        msgspec.Meta(
            description="When the current window began: windows are fixed, aligned to the Unix epoch."
        ),
    ]
    resets_at: Annotated[
        datetime, msgspec.Meta(description="When the current window ends and both counts reset.")
    ]
    messages: Annotated[Spent, msgspec.Meta(description="Messages sent to AI models.")]
    tokens: Annotated[
        Spent, msgspec.Meta(description="Model tokens, prompt and completion, of finished answers.")
    ]

    @classmethod
    def of(cls, view: UsageView) -> UsageResponse:
        return cls(
            window_seconds=view.window_seconds,
            window_start=view.window_start,
            resets_at=view.resets_at,
            messages=Spent(used=view.messages_used, limit=view.messages_limit),
            tokens=Spent(used=view.tokens_used, limit=view.tokens_limit),
        )
