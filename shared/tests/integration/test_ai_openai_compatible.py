"""The OpenAI-compatible adapter against a scripted provider on loopback: errors, timeouts, retries."""

import asyncio
import json
import time

import httpx
import msgspec
import pytest

from shared.ai.openai_compatible import OpenAICompatibleModel
from shared.ai.resilience import RetryPolicy
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
    Timeouts,
)

from .ai_fake_provider import DONE, Exchange, FakeProvider, Reply, delta, sse, usage

KEY = "sk-test-secret-0123456789"
FAST_RETRY = RetryPolicy(attempts=3, base_s=0.01, cap_s=0.05, max_retry_after_s=1.0)
# generous where a test does not time out on purpose: the machine may be busy
ROOMY = Timeouts(connect_s=5, first_token_s=10, idle_s=10, total_s=30)
SHORT = Timeouts(connect_s=5, first_token_s=0.3, idle_s=0.3, total_s=30)


def request(text: str = "Say hello", **parameters) -> ChatRequest:
    return ChatRequest(
        model="gpt-test",
        messages=[ChatMessage(role="user", content=text)],
        parameters=Parameters(**parameters),
    )


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


def model(http, provider, *, retry=FAST_RETRY, timeouts=ROOMY, **kwargs) -> OpenAICompatibleModel:
    return OpenAICompatibleModel(
        http=http,
        base_url=provider.url + "/v1",
        model="gpt-test",
        api_key=KEY,
        retry=retry,
        timeouts=timeouts,
        **kwargs,
    )


async def hello(exchange: Exchange, reply: Reply) -> None:
    await reply.head()
    await reply.send(delta(None), ": keep-alive\n\n", delta("Hel"), ": ping\n\n", delta("lo"))
    await reply.send(delta(None, finish="stop"), usage(7, 2), DONE)
    await reply.end()


def refuse(status: int, body, **headers):
    async def script(exchange: Exchange, reply: Reply) -> None:
        await reply.answer(status, body, **headers)

    return script


async def test_the_answer_streams_piece_by_piece_with_the_providers_usage(http):
    async with FakeProvider(hello) as provider:
        chunks = [c async for c in model(http, provider).stream(request())]

    assert [c.delta for c in chunks] == ["Hel", "lo", ""]
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (7, 2)


async def test_the_request_asks_for_a_stream_with_usage_and_carries_the_key_as_a_bearer(http):
    async with FakeProvider(hello) as provider:
        await model(http, provider).complete(request(temperature=0.2, max_tokens=5, stop=("\n",)))
        [exchange] = provider.exchanges

    assert exchange.path == "/v1/chat/completions"
    assert exchange.headers["authorization"] == f"Bearer {KEY}"
    assert exchange.body["stream"] is True
    assert exchange.body["stream_options"] == {"include_usage": True}
    assert exchange.body["messages"] == [{"role": "user", "content": "Say hello"}]
    assert (exchange.body["temperature"], exchange.body["max_tokens"], exchange.body["stop"]) == (
        0.2,
        5,
        ["\n"],
    )


async def test_a_json_schema_is_asked_for_as_a_strict_json_schema_response_format(http):
    schema = {
        "title": "Plan",
        "type": "object",
        "properties": {"steps": {"type": "array"}},
        "required": ["steps"],
        "additionalProperties": False,
    }
    async with FakeProvider(hello) as provider:
        await model(http, provider).complete(request(json_schema=json.dumps(schema)))
        [exchange] = provider.exchanges

    assert exchange.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Plan", "schema": schema, "strict": True},
    }


class Plan(msgspec.Struct, forbid_unknown_fields=True):
    steps: list[str]
    note: str = ""


async def test_a_msgspec_schema_is_sent_with_its_root_inlined_and_not_strict_when_a_field_is_optional(http):
    schema = msgspec.json.schema(Plan)
    async with FakeProvider(hello) as provider:
        await model(http, provider).complete(request(json_schema=json.dumps(schema)))
        [exchange] = provider.exchanges

    sent = exchange.body["response_format"]["json_schema"]
    assert (sent["name"], sent["strict"]) == ("Plan", False)
    assert sent["schema"]["type"] == "object"
    assert sent["schema"]["properties"] == schema["$defs"]["Plan"]["properties"]


async def test_the_models_default_parameters_fill_what_the_request_leaves_unset(http):
    async with FakeProvider(hello) as provider:
        chosen = model(http, provider, defaults=Parameters(temperature=0.7, max_tokens=64))
        await chosen.complete(request(max_tokens=8))
        [exchange] = provider.exchanges

    assert (exchange.body["temperature"], exchange.body["max_tokens"]) == (0.7, 8)


async def test_without_a_usage_chunk_the_usage_is_estimated_and_still_returned(http):
    async def no_usage(exchange: Exchange, reply: Reply) -> None:
        await reply.head()
        await reply.send(delta("a"), delta("b"), delta("c", finish="length"), DONE)
        await reply.end()

    async with FakeProvider(no_usage) as provider:
        completion = await model(http, provider).complete(request("x" * 40))

    assert completion.content == "abc"
    assert completion.finish_reason == "length"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (10, 3)


async def test_an_error_object_mid_stream_raises_after_the_pieces_already_sent_and_is_not_retried(http):
    async def fails_midway(exchange: Exchange, reply: Reply) -> None:
        await reply.head()
        await reply.send(
            delta("Hel"), sse({"error": {"message": "the server overloaded", "type": "server_error"}})
        )
        await reply.end()

    received = []

    async def consume(chosen) -> None:
        async for chunk in chosen.stream(request()):
            received.append(chunk.delta)

    async with FakeProvider(fails_midway, hello) as provider:
        with pytest.raises(ModelUnavailable, match="the server overloaded"):
            await consume(model(http, provider))

        assert received == ["Hel"]
        assert len(provider.exchanges) == 1


async def test_an_error_event_in_plain_text_is_a_model_error_with_its_words(http):
    async def error_event(exchange: Exchange, reply: Reply) -> None:
        await reply.head()
        await reply.send("event: error\ndata: model crashed while generating\n\n")
        await reply.end()

    async with FakeProvider(error_event) as provider:
        with pytest.raises(ModelUnavailable, match="model crashed while generating"):
            await model(http, provider, retry=RetryPolicy(attempts=1)).complete(request())


async def test_a_connection_cut_mid_answer_is_unavailable_and_not_retried(http):
    async def cut(exchange: Exchange, reply: Reply) -> None:
        await reply.head()
        await reply.send(delta("Hel"))
        await asyncio.sleep(0.05)
        reply.cut()

    async with FakeProvider(cut, hello) as provider:
        with pytest.raises(ModelUnavailable, match=r"broke|ended before"):
            await model(http, provider).complete(request())

        assert len(provider.exchanges) == 1


async def test_a_429_is_retried_after_the_retry_after_the_provider_asked_for(http):
    async with FakeProvider(
        refuse(429, {"error": {"message": "slow down"}}, retry_after="0.3"), hello
    ) as provider:
        started = time.monotonic()
        completion = await model(http, provider).complete(request())
        waited = time.monotonic() - started

        assert len(provider.exchanges) == 2
    assert completion.content == "Hello"
    assert waited >= 0.3


async def test_a_429_asking_for_a_longer_wait_than_the_cap_goes_to_the_caller_with_its_retry_after(http):
    async with FakeProvider(
        refuse(429, {"error": {"message": "quota exceeded"}}, retry_after="120")
    ) as provider:
        with pytest.raises(ModelRateLimited, match="quota exceeded") as raised:
            await model(http, provider).complete(request())

        assert len(provider.exchanges) == 1
    assert raised.value.retry_after_s == 120


async def test_a_5xx_before_the_first_token_is_retried_with_back_off(http):
    async with FakeProvider(refuse(503, "upstream down"), refuse(502, "bad gateway"), hello) as provider:
        completion = await model(http, provider).complete(request())

        assert len(provider.exchanges) == 3
    assert completion.content == "Hello"


async def test_a_5xx_on_every_attempt_is_unavailable_with_the_providers_words(http):
    async with FakeProvider(refuse(500, {"error": {"message": "internal failure"}})) as provider:
        with pytest.raises(ModelUnavailable, match="500: internal failure"):
            await model(http, provider).complete(request())

        assert len(provider.exchanges) == 3


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, ModelRequestRejected),
        (404, ModelRequestRejected),
        (422, ModelRequestRejected),
        (401, ModelAuthenticationFailed),
        (403, ModelAuthenticationFailed),
    ],
)
async def test_a_4xx_is_its_error_kind_with_the_providers_message_and_is_not_retried(http, status, kind):
    body = {"error": {"message": f"refused with {status}", "type": "invalid_request_error"}}
    async with FakeProvider(refuse(status, body)) as provider:
        with pytest.raises(kind, match=f"refused with {status}"):
            await model(http, provider).complete(request())

        assert len(provider.exchanges) == 1


async def test_the_api_key_shows_in_no_error_and_no_repr_even_when_the_provider_echoes_it(http):
    async with FakeProvider(
        refuse(401, {"error": {"message": f"Incorrect API key provided: {KEY}"}})
    ) as provider:
        chosen = model(http, provider)
        with pytest.raises(ModelAuthenticationFailed) as raised:
            await chosen.complete(request())

    assert KEY not in str(raised.value)
    assert KEY not in raised.value.detail
    assert KEY not in repr(chosen)
    assert "Incorrect API key provided" in raised.value.detail


async def test_a_slow_first_byte_times_out_and_is_retried_before_the_first_token(http):
    async def slow(exchange: Exchange, reply: Reply) -> None:
        await reply.until_disconnected()

    async with FakeProvider(slow, hello) as provider:
        # long enough for the retry's quick answer on a busy machine, short for the silent first try
        limits = Timeouts(connect_s=5, first_token_s=1.0, idle_s=10, total_s=30)
        completion = await model(http, provider, timeouts=limits).complete(request())

        assert len(provider.exchanges) == 2
    assert completion.content == "Hello"


async def test_a_first_token_that_never_comes_is_a_timeout(http):
    async def silent(exchange: Exchange, reply: Reply) -> None:
        await reply.head()
        await reply.send(": keep-alive\n\n")
        await reply.until_disconnected()

    async with FakeProvider(silent) as provider:
        with pytest.raises(ModelTimeout, match=r"no first token within 0\.3 s"):
            await model(http, provider, timeouts=SHORT, retry=RetryPolicy(attempts=1)).complete(request())


async def test_silence_between_tokens_is_an_idle_timeout_and_never_retried(http):
    async def stalls(exchange: Exchange, reply: Reply) -> None:
        await reply.head()
        await reply.send(delta("Hel"))
        await reply.until_disconnected()

    async with FakeProvider(stalls, hello) as provider:
        with pytest.raises(ModelTimeout, match=r"nothing for 0\.3 s"):
            await model(http, provider, timeouts=SHORT).complete(request())

        assert len(provider.exchanges) == 1
        await asyncio.wait_for(provider.exchanges[0].disconnected.wait(), 2)


async def test_an_answer_longer_than_the_total_time_limit_is_a_timeout(http):
    async def trickles(exchange: Exchange, reply: Reply) -> None:
        await reply.head()
        for _ in range(50):
            await reply.send(delta("."))
            await asyncio.sleep(0.05)

    limits = Timeouts(connect_s=2, first_token_s=1, idle_s=1, total_s=0.4)
    async with FakeProvider(trickles) as provider:
        with pytest.raises(ModelTimeout, match="total time limit"):
            await model(http, provider, timeouts=limits).complete(request())


async def test_cancelling_the_caller_closes_the_upstream_request(http):
    first_piece = asyncio.Event()

    async def endless(exchange: Exchange, reply: Reply) -> None:
        await reply.head()
        await reply.send(delta("Hel"))
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


async def test_a_provider_that_cannot_be_reached_is_unavailable(http):
    async with FakeProvider(hello) as provider:
        url = provider.url
    unreachable = OpenAICompatibleModel(http=http, base_url=url, model="m", retry=RetryPolicy(attempts=1))

    with pytest.raises(ModelUnavailable, match="could not connect"):
        await unreachable.complete(request())


async def test_a_200_that_is_not_an_event_stream_is_a_model_error(http):
    async with FakeProvider(refuse(200, {"not": "a stream"})) as provider:
        with pytest.raises(ModelError, match="event stream"):
            await model(http, provider, retry=RetryPolicy(attempts=1)).complete(request())
