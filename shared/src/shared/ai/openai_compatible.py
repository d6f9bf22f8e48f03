"""A model behind an OpenAI-compatible ``/chat/completions`` endpoint, streamed over SSE.

OpenAI itself, llama.cpp's server, vLLM, LM Studio and most gateways speak it. The stream is
``data:`` lines of chunk objects, comment lines as keep-alives, an ``error`` object in place of
a chunk when the provider fails mid-answer, a last chunk with the usage when
``stream_options.include_usage`` is honoured, and ``[DONE]``. SSE framing is httpx-sse's.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import msgspec
from httpx_sse import EventSource, SSEError

from shared.ai.llama_json import control_characters_escaped, tightened
from shared.ai.parameters import (
    estimated_usage,
    inline_root,
    merged,
    schema_name,
    schema_of,
    strict_compatible,
)
from shared.ai.provider_errors import Secret, status_error, stream_error, transport_error
from shared.ai.resilience import RetryPolicy, guarded
from shared.kernel.ai import (
    ChatChunk,
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    FinishReason,
    ImagePart,
    ModelUnavailable,
    Parameters,
    TextPart,
    Timeouts,
    Usage,
    gather,
)

StructuredOutput = Literal["json_schema", "json_object"]
"""How a JSON schema is asked for: OpenAI's ``json_schema`` response format, or the older
``{"type": "json_object", "schema": ...}`` that llama-cpp-python's server reads."""

_FINISH: dict[str, FinishReason] = {"length": "length", "content_filter": "error"}


class _Delta(msgspec.Struct):
    content: str | None = None


class _Choice(msgspec.Struct):
    delta: _Delta = msgspec.field(default_factory=_Delta)
    finish_reason: str | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _Chunk(msgspec.Struct):
    choices: list[_Choice] = []
    usage: _Usage | None = None
    error: Any = None


_decode_chunk = msgspec.json.Decoder(_Chunk).decode


class OpenAICompatibleModel:
    """A :class:`shared.kernel.ai.ChatModel` over one shared ``httpx.AsyncClient``."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        base_url: str,
        model: str,
        api_key: str | None = None,
        defaults: Parameters = Parameters(),
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        structured_output: StructuredOutput = "json_schema",
        name: str | None = None,
    ) -> None:
        self.name = name or model
        self.model = model
        self._http = http
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._key = Secret(api_key)
        self._defaults = defaults
        self._timeouts = timeouts
        self._retry = retry
        self._structured_output = structured_output

    def __repr__(self) -> str:
        return f"OpenAICompatibleModel(url={self._url!r}, model={self.model!r}, api_key={self._key!r})"

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        return await gather(self.stream(request))

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = self._body(request)
        chunks = guarded(
            lambda: self._attempt(request, body), timeouts=self._timeouts, retry=self._retry, model=self.name
        )
        if "response_format" in body and self._structured_output == "json_object":
            return control_characters_escaped(chunks)  # llama.cpp lets raw ones through (llama_json)
        return chunks

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        parameters = merged(request.parameters, self._defaults)
        body: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": [openai_message(m) for m in request.messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        for key in ("temperature", "top_p", "max_tokens", "seed"):
            if (value := getattr(parameters, key)) is not None:
                body[key] = value
        if parameters.stop:
            body["stop"] = list(parameters.stop)
        schema = schema_of(parameters)
        if schema is not None and self._structured_output == "json_schema":
            # strict (the provider guarantees the schema) whenever the schema allows it
            spec = {
                "name": schema_name(schema),
                "schema": inline_root(schema),
                "strict": strict_compatible(schema),
            }
            body["response_format"] = {"type": "json_schema", "json_schema": spec}
        elif schema is not None:
            # llama.cpp's grammar: bounds it can build and a small model can close (llama_json)
            body["response_format"] = {"type": "json_object", "schema": tightened(inline_root(schema))}
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"accept": "text/event-stream"}
        if (key := self._key.reveal()) is not None:
            headers["authorization"] = f"Bearer {key}"
        return headers

    async def _attempt(self, request: ChatRequest, body: dict[str, Any]) -> AsyncIterator[ChatChunk]:
        # read timeouts are the guard's (first token, idle): httpx only bounds connecting and sending
        timeout = httpx.Timeout(self._timeouts.connect_s, read=None)
        try:
            headers = self._headers()
            async with self._http.stream("POST", self._url, json=body, headers=headers, timeout=timeout) as r:
                if r.status_code >= 400:
                    raise status_error(r, await r.aread(), self._key)
                async for chunk in self._chunks(request, EventSource(r)):
                    yield chunk
        except httpx.HTTPError as exc:  # transport failures mostly; a broken body encoding too
            raise transport_error(exc, self._key) from None

    async def _chunks(self, request: ChatRequest, source: EventSource) -> AsyncIterator[ChatChunk]:
        finish: FinishReason | None = None
        usage: Usage | None = None
        pieces = 0
        try:
            async for event in source.aiter_sse():
                if event.data.strip() == "[DONE]":
                    finish = finish or "stop"
                    break
                if not event.data.strip():
                    continue
                try:
                    chunk = _decode_chunk(event.data)
                except msgspec.DecodeError as exc:
                    if event.event == "error":  # some servers send the error event as plain text
                        raise stream_error(event.data, self._key) from None
                    raise ModelUnavailable(f"the provider sent a chunk that is not JSON: {exc}") from None
                if chunk.error is not None or event.event == "error":
                    raise stream_error(chunk.error or event.data, self._key)
                if chunk.usage is not None:
                    usage = Usage(
                        prompt_tokens=chunk.usage.prompt_tokens,
                        completion_tokens=chunk.usage.completion_tokens,
                    )
                for choice in chunk.choices[:1]:
                    if choice.delta.content:
                        pieces += 1
                        yield ChatChunk(delta=choice.delta.content)
                    if choice.finish_reason is not None:
                        finish = _FINISH.get(choice.finish_reason, "stop")
        except SSEError as exc:
            raise ModelUnavailable(f"the model provider did not answer with an event stream: {exc}") from None
        if finish is None:  # neither a finish reason nor [DONE]: the connection was cut short
            raise ModelUnavailable("the model provider's stream ended before the answer did")
        usage = usage or estimated_usage(request.messages, pieces)
        yield ChatChunk(delta="", finish_reason=finish, usage=usage)


def openai_message(message: ChatMessage) -> dict[str, Any]:
    """A message as OpenAI's chat API takes it: ``content`` a string, or, with parts, a list of
    content parts (text, ``image_url`` with a data URL, ``input_audio``)."""
    if not message.parts:
        return {"role": message.role, "content": message.content}
    content: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
    for part in message.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            content.append({"type": "image_url", "image_url": {"url": part.data_url()}})
        else:
            data = base64.b64encode(part.data).decode("ascii")
            content.append({"type": "input_audio", "input_audio": {"data": data, "format": part.format}})
    return {"role": message.role, "content": content}
