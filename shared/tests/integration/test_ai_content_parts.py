"""A message's parts as each adapter sends them: OpenAI content parts (text, an image as a data
URL, ``input_audio``), Ollama's ``images``; a message without parts is sent as before."""

from __future__ import annotations

import base64

import httpx
import pytest

from shared.ai.ollama import OllamaModel
from shared.ai.openai_compatible import OpenAICompatibleModel
from shared.ai.resilience import RetryPolicy
from shared.kernel.ai import AudioPart, ChatMessage, ChatRequest, ImagePart, TextPart, Timeouts

from .ai_fake_provider import DONE, Exchange, FakeProvider, Reply, delta, ndjson, usage

FAST_RETRY = RetryPolicy(attempts=1, base_s=0.01, cap_s=0.05, max_retry_after_s=1.0)
ROOMY = Timeouts(connect_s=5, first_token_s=10, idle_s=10, total_s=30)
IMAGE = b"\x89PNG\r\n\x1a\n-not-really"
AUDIO = b"RIFF....WAVEfmt "

MESSAGES = [
    ChatMessage(role="system", content="Be brief."),
    ChatMessage(
        role="user",
        content="What is in these?",
        parts=(
            TextPart(text="[attached: notes.txt]\nbuy milk"),
            ImagePart(media_type="image/png", data=IMAGE),
            AudioPart(format="wav", data=AUDIO),
        ),
    ),
]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


async def openai_answer(exchange: Exchange, reply: Reply) -> None:
    await reply.head()
    await reply.send(delta("ok"), delta(None, finish="stop"), usage(3, 1), DONE)
    await reply.end()


async def ollama_answer(exchange: Exchange, reply: Reply) -> None:
    await reply.head(content_type="application/x-ndjson")
    await reply.send(
        ndjson({"message": {"role": "assistant", "content": "ok"}, "done": False}),
        ndjson({"message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}),
    )
    await reply.end()


async def test_openai_gets_text_image_and_audio_as_content_parts(http):
    async with FakeProvider(openai_answer) as provider:
        model = OpenAICompatibleModel(
            http=http, base_url=provider.url + "/v1", model="gpt-4o", retry=FAST_RETRY, timeouts=ROOMY
        )
        answer = await model.complete(ChatRequest(model="", messages=MESSAGES))
        [exchange] = provider.exchanges

    assert answer.content == "ok"
    system, user = exchange.body["messages"]
    assert system == {"role": "system", "content": "Be brief."}
    assert user == {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in these?"},
            {"type": "text", "text": "[attached: notes.txt]\nbuy milk"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(IMAGE)}"}},
            {"type": "input_audio", "input_audio": {"data": b64(AUDIO), "format": "wav"}},
        ],
    }


async def test_ollama_gets_images_beside_the_text_and_no_audio(http):
    async with FakeProvider(ollama_answer) as provider:
        model = OllamaModel(http=http, base_url=provider.url, model="llava", retry=FAST_RETRY, timeouts=ROOMY)
        answer = await model.complete(ChatRequest(model="", messages=MESSAGES))
        [exchange] = provider.exchanges

    assert answer.content == "ok"
    system, user = exchange.body["messages"]
    assert system == {"role": "system", "content": "Be brief."}
    assert user == {
        "role": "user",
        "content": "What is in these?\n\n[attached: notes.txt]\nbuy milk",
        "images": [b64(IMAGE)],
    }


def test_an_image_part_is_a_data_url():
    assert ImagePart(media_type="image/gif", data=b"GIF89a").data_url() == "data:image/gif;base64,R0lGODlh"
