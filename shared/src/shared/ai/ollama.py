"""A model served by Ollama, over its own ``/api/chat`` (a stream of JSON lines).

Each line is a piece of the answer (``message.content``); the last has ``done: true`` with
``done_reason`` and the token counts (``prompt_eval_count``, ``eval_count``). A failure after
the 200 arrives as an ``{"error": ...}`` line. Structured output is ``format: <JSON schema>``.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec

from shared.ai.parameters import estimated_usage, inline_root, merged, schema_of
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

# Ollama's option names for the port's parameters
_OPTIONS = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "num_predict", "seed": "seed"}


class _Message(msgspec.Struct):
    content: str = ""


class _Line(msgspec.Struct):
    message: _Message | None = None
    done: bool = False
    done_reason: str | None = None
    prompt_eval_count: int | None = None
    eval_count: int | None = None
    error: Any = None


_decode_line = msgspec.json.Decoder(_Line).decode


class OllamaModel:
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
        name: str | None = None,
    ) -> None:
        self.name = name or model
        self.model = model
        self._http = http
        self._url = base_url.rstrip("/") + "/api/chat"
        # Ollama itself has no keys; a proxy in front of it may want a bearer token
        self._key = Secret(api_key)
        self._defaults = defaults
        self._timeouts = timeouts
        self._retry = retry

    def __repr__(self) -> str:
        return f"OllamaModel(url={self._url!r}, model={self.model!r}, api_key={self._key!r})"

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        return await gather(self.stream(request))

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = self._body(request)
        return guarded(
            lambda: self._attempt(request, body), timeouts=self._timeouts, retry=self._retry, model=self.name
        )

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        parameters = merged(request.parameters, self._defaults)
        options: dict[str, Any] = {
            name: value for key, name in _OPTIONS.items() if (value := getattr(parameters, key)) is not None
        }
        if parameters.stop:
            options["stop"] = list(parameters.stop)
        body: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": [ollama_message(m) for m in request.messages],
            "stream": True,
        }
        if options:
            body["options"] = options
        if (schema := schema_of(parameters)) is not None:
            body["format"] = inline_root(schema)
        return body

    async def _attempt(self, request: ChatRequest, body: dict[str, Any]) -> AsyncIterator[ChatChunk]:
        timeout = httpx.Timeout(self._timeouts.connect_s, read=None)
        headers = {"accept": "application/x-ndjson"}
        if (key := self._key.reveal()) is not None:
            headers["authorization"] = f"Bearer {key}"
        try:
            async with self._http.stream("POST", self._url, json=body, headers=headers, timeout=timeout) as r:
                if r.status_code >= 400:
                    raise status_error(r, await r.aread(), self._key)
                async for chunk in self._chunks(request, r):
                    yield chunk
        except httpx.HTTPError as exc:  # transport failures mostly; a broken body encoding too
            raise transport_error(exc, self._key) from None

    async def _chunks(self, request: ChatRequest, response: httpx.Response) -> AsyncIterator[ChatChunk]:
        pieces = 0
        async for text in response.aiter_lines():
            if not text.strip():
                continue
            try:
                line = _decode_line(text)
            except msgspec.DecodeError as exc:
                raise ModelUnavailable(f"the provider sent a line that is not JSON: {exc}") from None
            if line.error is not None:
                raise stream_error(line.error, self._key)
            if line.message is not None and line.message.content:
                pieces += 1
                yield ChatChunk(delta=line.message.content)
            if line.done:
                finish: FinishReason = "length" if line.done_reason == "length" else "stop"
                usage = estimated_usage(request.messages, pieces)
                if line.prompt_eval_count is not None or line.eval_count is not None:
                    usage = Usage(
                        prompt_tokens=line.prompt_eval_count or 0, completion_tokens=line.eval_count or 0
                    )
                yield ChatChunk(delta="", finish_reason=finish, usage=usage)
                return
        raise ModelUnavailable("the model provider's stream ended before the answer did")


def ollama_message(message: ChatMessage) -> dict[str, Any]:
    """A message as Ollama's chat API takes it: text parts joined to ``content``, images as
    base64 in ``images``; audio it cannot take is left out."""
    text = "\n\n".join([message.content, *(p.text for p in message.parts if isinstance(p, TextPart))])
    body: dict[str, Any] = {"role": message.role, "content": text}
    images = [base64.b64encode(p.data).decode("ascii") for p in message.parts if isinstance(p, ImagePart)]
    if images:
        body["images"] = images
    return body
