"""The Ollama adapter against a scripted /api/chat on loopback: NDJSON pieces, done counts, error lines."""

import asyncio
import json

import httpx
import pytest

from shared.ai.ollama import OllamaModel
from shared.ai.resilience import RetryPolicy
from shared.kernel.ai import (
    ChatMessage,
    ChatRequest,
    ModelRequestRejected,
    ModelTimeout,
    ModelUnavailable,
    Parameters,
    Timeouts,
)

from .ai_fake_provider import Exchange, FakeProvider, Reply, ndjson

FAST_RETRY = RetryPolicy(attempts=3, base_s=0.01, cap_s=0.05)
# generous where a test does not time out on purpose: the machine may be busy
ROOMY = Timeouts(connect_s=5, first_token_s=10, idle_s=10, total_s=30)
SHORT = Timeouts(connect_s=5, first_token_s=0.3, idle_s=0.3, total_s=30)
NDJSON = "application/x-ndjson"


def request(**parameters) -> ChatRequest:
    messages = [ChatMessage(role="user", content="Say hello")]
    return ChatRequest(model="llama3.2", messages=messages, parameters=Parameters(**parameters))


def piece(text: str) -> str:
    return ndjson({"model": "llama3.2", "message": {"role": "assistant", "content": text}, "done": False})


def done(reason: str = "stop", **counts: int) -> str:
    return ndjson(
        {"message": {"role": "assistant", "content": ""}, "done": True, "done_reason": reason, **counts}
    )


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


def model(http, provider, *, timeouts=ROOMY) -> OllamaModel:
    return OllamaModel(
        http=http, base_url=provider.url, model="llama3.2", retry=FAST_RETRY, timeouts=timeouts
    )


async def hello(exchange: Exchange, reply: Reply) -> None:
    await reply.head(content_type=NDJSON)
    await reply.send(piece("Hel"), piece("lo"), done(prompt_eval_count=9, eval_count=2))
    await reply.end()


async def test_the_answer_streams_line_by_line_with_the_done_lines_counts_as_usage(http):
    async with FakeProvider(hello) as provider:
        chunks = [c async for c in model(http, provider).stream(request())]

    assert [c.delta for c in chunks] == ["Hel", "lo", ""]
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (9, 2)


async def test_parameters_become_ollama_options_and_a_schema_its_format(http):
    schema = {"title": "Plan", "type": "object", "properties": {"steps": {"type": "array"}}}
    async with FakeProvider(hello) as provider:
        await model(http, provider).complete(
            request(max_tokens=5, temperature=0.1, json_schema=json.dumps(schema))
        )
        [exchange] = provider.exchanges

    assert exchange.path == "/api/chat"
    assert exchange.body["stream"] is True
    assert exchange.body["options"] == {"temperature": 0.1, "num_predict": 5}
    assert exchange.body["format"] == schema


async def test_a_done_reason_length_is_finish_length(http):
    async def cut_short(exchange: Exchange, reply: Reply) -> None:
        await reply.head(content_type=NDJSON)
        await reply.send(piece("Hel"), done("length"))
        await reply.end()

    async with FakeProvider(cut_short) as provider:
        completion = await model(http, provider).complete(request())

    assert completion.finish_reason == "length"
    assert completion.usage.completion_tokens == 1


async def test_an_error_line_after_a_200_is_a_model_error_and_not_retried_after_a_piece(http):
    async def fails(exchange: Exchange, reply: Reply) -> None:
        await reply.head(content_type=NDJSON)
        await reply.send(piece("Hel"), ndjson({"error": "model runner has unexpectedly stopped"}))
        await reply.end()

    async with FakeProvider(fails, hello) as provider:
        with pytest.raises(ModelUnavailable, match="unexpectedly stopped"):
            await model(http, provider).complete(request())

        assert len(provider.exchanges) == 1


async def test_an_unknown_model_is_a_rejected_request_with_ollamas_message(http):
    async def unknown(exchange: Exchange, reply: Reply) -> None:
        await reply.answer(404, {"error": "model 'llama3.2' not found, try pulling it first"})

    async with FakeProvider(unknown) as provider:
        with pytest.raises(ModelRequestRejected, match="not found, try pulling it first"):
            await model(http, provider).complete(request())


async def test_a_stream_that_stops_without_its_done_line_is_unavailable(http):
    async def stops(exchange: Exchange, reply: Reply) -> None:
        await reply.head(content_type=NDJSON)
        await reply.send(piece("Hel"))
        await reply.end()

    async with FakeProvider(stops) as provider:
        with pytest.raises(ModelUnavailable, match="ended before"):
            await model(http, provider).complete(request())


async def test_a_slow_first_line_is_a_timeout_retried_before_the_first_token(http):
    async def slow(exchange: Exchange, reply: Reply) -> None:
        await reply.until_disconnected()

    async with FakeProvider(slow, slow, slow) as provider:
        with pytest.raises(ModelTimeout):
            await model(http, provider, timeouts=SHORT).complete(request())

        assert len(provider.exchanges) == 3


async def test_cancelling_the_caller_closes_the_upstream_request(http):
    first_piece = asyncio.Event()

    async def endless(exchange: Exchange, reply: Reply) -> None:
        await reply.head(content_type=NDJSON)
        await reply.send(piece("Hel"))
        await reply.until_disconnected()

    async def consume(chosen) -> None:
        async for _ in chosen.stream(request()):
            first_piece.set()

    async with FakeProvider(endless) as provider:
        task = asyncio.create_task(consume(model(http, provider, timeouts=Timeouts())))
        await asyncio.wait_for(first_piece.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

        await asyncio.wait_for(provider.exchanges[0].disconnected.wait(), 2)
