"""The OpenAI-compatible adapter against a server no one here wrote: llama.cpp running SmolLM2 on the CPU.

The server starts once per session (a second or two: the 135M model is ~100 MB). Speeds are
printed (run with ``-s`` to see them), never asserted: the machine may be busy.
"""

import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import httpx
import jsonschema_rs
import msgspec
import pytest

from aiorch_devkit.devservers import free_port
from shared.ai.factory import ModelConfig, build_model
from shared.ai.local_server import MODEL_ALIAS, base_url, server_command
from shared.kernel.ai import ChatMessage, ChatModel, ChatRequest, Parameters

START_TIMEOUT_S = 60.0

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=24)]


class Colors(msgspec.Struct, forbid_unknown_fields=True):
    # bounded strings and lists: the grammar then forces the answer to close well within max_tokens
    colors: Annotated[list[Short], msgspec.Meta(min_length=2, max_length=3)]
    favourite: Short


@pytest.fixture(scope="session")
def local_model_url(tmp_path_factory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            server_command(port=port), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = base_url(port)
    try:
        _wait_until_serving(server, url, log)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _wait_until_serving(server: subprocess.Popen[bytes], url: str, log) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the llama.cpp server exited with {server.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the llama.cpp server did not answer within {START_TIMEOUT_S:.0f} s")


@pytest.fixture
async def local(local_model_url) -> AsyncIterator[ChatModel]:
    async with httpx.AsyncClient() as http:
        yield build_model(
            ModelConfig(provider="local", model=MODEL_ALIAS, base_url=local_model_url), http=http
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
