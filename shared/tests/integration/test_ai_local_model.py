"""The OpenAI-compatible adapter against a server no one here wrote: llama.cpp running SmolLM2 on the CPU.

The server starts once per session (the devkit's ``local_model`` fixture). Speeds are
printed (run with ``-s`` to see them), never asserted: the machine may be busy.
"""

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import jsonschema_rs
import msgspec
import pytest

from aiorch_devkit.testing.local_model import LocalModelServer
from shared.ai.factory import ModelConfig, build_model
from shared.ai.local_server import MODEL_ALIAS
from shared.kernel.ai import ChatMessage, ChatModel, ChatRequest, Parameters

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=24)]


class Colors(msgspec.Struct, forbid_unknown_fields=True):
    # bounded strings and lists: the grammar then forces the answer to close well within max_tokens
    colors: Annotated[list[Short], msgspec.Meta(min_length=2, max_length=3)]
    favourite: Short


@pytest.fixture
async def local(local_model: LocalModelServer) -> AsyncIterator[ChatModel]:
    async with httpx.AsyncClient() as http:
        yield build_model(
            ModelConfig(provider="local", model=local_model.model, base_url=local_model.url), http=http
        )


def ask(text: str, **parameters) -> ChatRequest:
    return ChatRequest(
        model=MODEL_ALIAS,
        messages=[ChatMessage(role="user", content=text)],
        parameters=Parameters(temperature=0, seed=7, **parameters),
    )


async def measured(model: ChatModel, request: ChatRequest, what: str):
    started = time.monotonic()
    first = None
    chunks = []
    async for chunk in model.stream(request):
        if chunk.delta and first is None:
            first = time.monotonic()
        chunks.append(chunk)
    ended = time.monotonic()
    pieces = sum(1 for c in chunks if c.delta)
    if first is not None and pieces > 1:
        rate = (pieces - 1) / max(ended - first, 1e-6)
        latency = first - started
        print(f"\nlocal model, {what}: first token {latency:.3f} s, {rate:.0f} tokens/s, {pieces} tokens")
    return chunks


async def test_real_tokens_stream_one_by_one_and_the_usage_comes_back(local):
    await local.complete(ask("Hi", max_tokens=4))  # the first call warms the model up

    chunks = await measured(local, ask("Name three colors.", max_tokens=48), "plain text")

    text = "".join(c.delta for c in chunks)
    assert sum(1 for c in chunks if c.delta) > 3
    assert text.strip()
    assert chunks[-1].finish_reason in ("stop", "length")
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens > 0
    assert chunks[-1].usage.completion_tokens > 0


async def test_max_tokens_cuts_a_real_answer_with_finish_length(local):
    completion = await local.complete(ask("Write a long story about a dragon.", max_tokens=5))

    assert completion.finish_reason == "length"


async def test_a_json_schema_answer_parses_and_validates(local):
    schema = msgspec.json.schema(Colors)

    chunks = await measured(
        local,
        ask(
            "Name three colors and your favourite one, as JSON.",
            max_tokens=160,
            json_schema=json.dumps(schema),
        ),
        "JSON schema",
    )

    text = "".join(c.delta for c in chunks)
    jsonschema_rs.validate(schema, json.loads(text))
    answer = msgspec.json.decode(text, type=Colors)
    assert 2 <= len(answer.colors) <= 3
    assert chunks[-1].finish_reason == "stop"


async def test_a_schema_with_generous_bounds_is_answered_and_the_server_lives_on(local):
    # llama.cpp's grammar parser dies (SIGSEGV) from maxLength ~2000: the adapter tightens the bounds
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "content": {"type": "string", "minLength": 1, "maxLength": 100_000},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
        },
        "required": ["title", "content", "tags"],
        "additionalProperties": False,
    }

    chunks = await measured(
        local,
        ask("Describe a shop that sells mugs, as JSON.", max_tokens=600, json_schema=json.dumps(schema)),
        "generous bounds",
    )

    jsonschema_rs.validate(schema, json.loads("".join(c.delta for c in chunks)))
    assert (await local.complete(ask("Hi", max_tokens=4))).content  # still serving
