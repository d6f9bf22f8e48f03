"""The AI model port's own helpers: a stream made whole keeps every piece, the finish and the usage."""

from collections.abc import AsyncIterator

from shared.kernel.ai import ChatChunk, ModelError, ModelRateLimited, ModelUnavailable, Usage, gather


async def chunks() -> AsyncIterator[ChatChunk]:
    for piece in ("Hel", "lo", "!"):
        yield ChatChunk(delta=piece)
    yield ChatChunk(delta="", finish_reason="length", usage=Usage(prompt_tokens=5, completion_tokens=3))


async def test_a_gathered_stream_is_the_whole_answer_with_its_finish_and_usage():
    completion = await gather(chunks())

    assert completion.content == "Hello!"
    assert completion.finish_reason == "length"
    assert completion.usage.total_tokens == 8


def test_errors_say_whether_the_same_request_may_succeed_later():
    assert ModelUnavailable("down").retryable
    assert ModelRateLimited("slow down", retry_after_s=2.0).retry_after_s == 2.0
    assert not ModelError("no").retryable
