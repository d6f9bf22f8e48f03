"""Retries before the first token only, after a jittered doubling back-off; an early stop closes the call."""

from contextlib import aclosing

import pytest

from shared.ai.resilience import RetryPolicy, guarded
from shared.kernel.ai import (
    ChatChunk,
    ModelAuthenticationFailed,
    ModelRateLimited,
    ModelUnavailable,
    Timeouts,
)

POLICY = RetryPolicy(attempts=5, base_s=1.0, cap_s=4.0, max_retry_after_s=10.0)


def test_the_back_off_doubles_up_to_the_cap_and_is_jittered_between_half_and_all_of_it():
    slowest = [POLICY.delay(n, ModelUnavailable("down"), rng=lambda: 1.0) for n in (1, 2, 3, 4, 5)]
    quickest = [POLICY.delay(n, ModelUnavailable("down"), rng=lambda: 0.0) for n in (1, 2, 3, 4, 5)]

    assert slowest == [1.0, 2.0, 4.0, 4.0, None]
    assert quickest == [0.5, 1.0, 2.0, 2.0, None]


def test_an_error_that_will_not_pass_by_itself_is_never_retried():
    assert POLICY.delay(1, ModelAuthenticationFailed("bad key")) is None


def test_a_retry_after_is_waited_for_unless_it_is_longer_than_the_cap():
    assert POLICY.delay(1, ModelRateLimited("slow", retry_after_s=3.0), rng=lambda: 0.0) == 3.0
    assert POLICY.delay(1, ModelRateLimited("slow", retry_after_s=30.0)) is None


async def test_a_failure_before_the_first_chunk_is_retried_and_one_after_it_is_not():
    calls = []

    async def attempt():
        calls.append(len(calls))
        if len(calls) == 1:
            raise ModelUnavailable("down")
        yield ChatChunk(delta="a")
        raise ModelUnavailable("broke midway")

    retry = RetryPolicy(attempts=3, base_s=0.001, cap_s=0.001)
    received = []

    async def consume():
        async for chunk in guarded(attempt, timeouts=Timeouts(), retry=retry, model="m"):
            received.append(chunk.delta)

    with pytest.raises(ModelUnavailable, match="broke midway"):
        await consume()

    assert calls == [0, 1]
    assert received == ["a"]


async def test_a_caller_that_stops_early_closes_the_attempt():
    closed = []

    async def attempt():
        try:
            for piece in ("a", "b", "c"):
                yield ChatChunk(delta=piece)
        finally:
            closed.append(True)

    async with aclosing(guarded(attempt, timeouts=Timeouts(), retry=POLICY, model="m")) as chunks:
        async for _ in chunks:
            break

    assert closed == [True]
