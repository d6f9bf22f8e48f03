"""Timeouts and retries around one streamed model call, the same for every HTTP adapter.

A call is a series of attempts; each attempt is an async generator of chunks that opens its
own upstream response (``async with client.stream(...)``), so leaving it (an error, a timeout,
a consumer that stops, a cancelled task) closes that response. An attempt that fails with a
retryable :class:`ModelError` *before its first chunk* is retried after an exponential
back-off with jitter (or the provider's Retry-After, up to a cap); once a chunk has reached
the caller nothing is retried, since the caller has already shown it.

Hand-written rather than tenacity/stamina: those retry a whole awaitable, while the rule here
depends on where inside a stream the failure happened, and the per-chunk timeouts need the
stream's own iteration.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass

import structlog

from shared.kernel.ai import ChatChunk, ModelError, ModelRateLimited, ModelTimeout, Timeouts

_log = structlog.get_logger("ai.model")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Retries before the first token only, for errors that say the same request may succeed later."""

    attempts: int = 3
    """Attempts in all, the first included (1: never retry)."""
    base_s: float = 0.5
    """The first back-off; it doubles each attempt, jittered to 50-100 %."""
    cap_s: float = 8.0
    """The longest back-off."""
    max_retry_after_s: float = 20.0
    """A longer Retry-After than this is not waited for: the error goes to the caller."""

    def delay(
        self, attempt: int, error: ModelError, *, rng: Callable[[], float] = random.random
    ) -> float | None:
        """The wait before attempt ``attempt + 1``, or ``None`` for no retry."""
        if not error.retryable or attempt >= self.attempts:
            return None
        backoff = min(self.cap_s, self.base_s * 2.0 ** (attempt - 1)) * (0.5 + rng() / 2)
        if isinstance(error, ModelRateLimited) and error.retry_after_s is not None:
            if error.retry_after_s > self.max_retry_after_s:
                return None
            return max(backoff, error.retry_after_s)
        return backoff


NO_RETRY = RetryPolicy(attempts=1)


async def guarded(
    attempt: Callable[[], AsyncIterator[ChatChunk]],
    *,
    timeouts: Timeouts,
    retry: RetryPolicy,
    model: str,
) -> AsyncIterator[ChatChunk]:
    """The chunks of ``attempt()`` under the first-token, idle and total timeouts, retried per ``retry``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeouts.total_s
    number = 0
    while True:
        number += 1
        started = False
        try:
            async with aclosing(attempt()) as chunks:  # type: ignore[type-var]
                while True:
                    step = timeouts.idle_s if started else timeouts.first_token_s
                    remaining = deadline - loop.time()
                    try:
                        async with asyncio.timeout(min(step, remaining)):
                            chunk = await anext(chunks)
                    except StopAsyncIteration:
                        return
                    except TimeoutError:
                        raise _timeout(step, remaining, started=started) from None
                    started = True
                    yield chunk
        except ModelError as error:
            wait = None if started else retry.delay(number, error)
            if wait is None or loop.time() + wait >= deadline:
                raise
            _log.info(
                "model call retried",
                model=model,
                attempt=number,
                error_type=type(error).__name__,
                wait_s=round(wait, 3),
            )
            await asyncio.sleep(wait)


def _timeout(step: float, remaining: float, *, started: bool) -> ModelTimeout:
    if remaining <= step:
        return ModelTimeout("the model did not finish its answer within the call's total time limit")
    if started:
        return ModelTimeout(f"the model sent nothing for {step:g} s in the middle of its answer")
    return ModelTimeout(f"the model sent no first token within {step:g} s")
