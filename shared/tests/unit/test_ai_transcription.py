"""Speech to text over an OpenAI-compatible ``/audio/transcriptions`` (httpx's mock transport
stands in for the provider: what is sent, and each answer's meaning)."""

from __future__ import annotations

import httpx
import pytest

from shared.ai.transcription import OpenAICompatibleTranscriber
from shared.kernel.ai import ModelAuthenticationFailed, ModelRequestRejected, ModelUnavailable

KEY = "sk-transcribe-canary-1234"


def transcriber(handler) -> OpenAICompatibleTranscriber:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return OpenAICompatibleTranscriber(
        http=http, base_url="http://provider/v1/", model="whisper-1", api_key=KEY
    )


async def test_the_audio_goes_as_a_multipart_file_with_the_model_and_the_text_comes_back():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"text": "hello there"})

    assert await transcriber(handler).transcribe(
        b"RIFF....WAVE", filename="note.wav", media_type="audio/wav"
    ) == ("hello there")
    (request,) = seen
    assert str(request.url) == "http://provider/v1/audio/transcriptions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.read()
    assert b'name="model"' in body
    assert b"whisper-1" in body
    assert b'filename="note.wav"' in body
    assert b"RIFF....WAVE" in body


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, ModelAuthenticationFailed), (400, ModelRequestRejected), (503, ModelUnavailable)],
)
async def test_refusals_are_the_ports_errors_with_the_key_scrubbed(status, kind):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"message": f"bad key {KEY}"}})

    with pytest.raises(kind) as refused:
        await transcriber(handler).transcribe(b"x", filename="a.mp3", media_type="audio/mpeg")
    assert KEY not in refused.value.detail
    assert KEY not in repr(transcriber(handler))


async def test_an_answer_without_a_transcript_is_refused():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>")

    with pytest.raises(ModelRequestRejected):
        await transcriber(handler).transcribe(b"x", filename="a.mp3", media_type="audio/mpeg")


async def test_a_broken_connection_is_unavailable():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(ModelUnavailable):
        await transcriber(handler).transcribe(b"x", filename="a.mp3", media_type="audio/mpeg")
