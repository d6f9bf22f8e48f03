"""An admin's check that a registered model answers: a tiny call, its latency, or the provider's error."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Final
from uuid import UUID

from orchestrator.application.ports import UnitOfWork
from orchestrator.application.ports.ai_models import KeyUnreadable, ModelConnector
from shared.kernel.ai import (
    ChatMessage,
    ChatRequest,
    ModelAuthenticationFailed,
    ModelError,
    ModelRateLimited,
    ModelRequestRejected,
    ModelTimeout,
    ModelUnavailable,
    Parameters,
)
from shared.kernel.errors import NotFound

CHECK_TIMEOUT_S: Final = 30.0
PROMPT: Final = "Reply with the single word: ok"
_KINDS: Final[tuple[tuple[type[Exception], str], ...]] = (
    (ModelTimeout, "timeout"),
    (ModelRateLimited, "rate_limited"),
    (ModelUnavailable, "unavailable"),
    (ModelAuthenticationFailed, "authentication_failed"),
    (ModelRequestRejected, "request_rejected"),
    (KeyUnreadable, "key_unreadable"),
    (ModelError, "error"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCheck:
    ok: bool
    latency_ms: float
    """From the request to the whole (tiny) answer, or to the failure."""
    error_kind: str | None = None
    error_message: str | None = None
    reply: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


async def check_ai_model(
    model_id: UUID, uow: UnitOfWork, *, connector: ModelConnector, timeout_s: float = CHECK_TIMEOUT_S
) -> ModelCheck:
    """Calls the model once with a tiny request, outside any transaction.

    A provider that fails, refuses or cannot be reached is a result (``ok`` false, the
    error's kind and message), not an error of this use case.

    Raises:
        NotFound: no such model.
    """
    async with uow:
        model = await uow.ai_models.get(model_id)
    if model is None:
        raise NotFound(f"AI model {model_id} not found")
    request = ChatRequest(
        model=model.model,
        messages=[ChatMessage(role="user", content=PROMPT)],
        parameters=Parameters(max_tokens=8, temperature=0.0),
    )
    started = time.perf_counter()
    try:
        chat = connector.connect(model)
        answer = await asyncio.wait_for(chat.complete(request), timeout_s)
    except (ModelError, KeyUnreadable, TimeoutError) as exc:
        kind = next((name for cls, name in _KINDS if isinstance(exc, cls)), "timeout")
        detail = getattr(exc, "detail", None) or f"no answer within {timeout_s:g} s"
        return ModelCheck(ok=False, latency_ms=_since(started), error_kind=kind, error_message=detail)
    return ModelCheck(
        ok=True,
        latency_ms=_since(started),
        reply=answer.content[:200],
        prompt_tokens=answer.usage.prompt_tokens,
        completion_tokens=answer.usage.completion_tokens,
    )


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
