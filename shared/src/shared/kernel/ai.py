"""The AI model port: what a use case calls to get a chat completion, whole or streamed.

Pure: messages, parameters, chunks, usage and errors are plain frozen dataclasses, so
domain and application code of chat and orchestrator can use them. The adapters
(an OpenAI-compatible HTTP client, Ollama, the built-in offline model, a local
llama.cpp server) live in the chassis (``shared.ai``) and translate to and from these.

Cancellation is asyncio's: cancelling the task that iterates :meth:`ChatModel.stream`
(or awaits :meth:`ChatModel.complete`) stops the generation and releases its
connection; an adapter never swallows :class:`asyncio.CancelledError`.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "cancelled", "error"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TextPart:
    """More text after a message's ``content`` (an attached text file, say)."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImagePart:
    """An image for a model that sees (OpenAI ``image_url`` as a data URL; Ollama ``images``)."""

    media_type: str
    """``image/png``, ``image/jpeg``, ``image/webp`` or ``image/gif``."""
    data: bytes

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioPart:
    """Audio for a model that hears (OpenAI ``input_audio``: wav or mp3 only)."""

    format: Literal["wav", "mp3"]
    data: bytes


Part = TextPart | ImagePart | AudioPart


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatMessage:
    role: Role
    content: str
    parts: tuple[Part, ...] = ()
    """What the message carries beyond ``content``, in order after it. An adapter sends the parts
    its provider takes (as content parts, or Ollama's images) and drops the others: the caller
    only gives a model the parts it declared it takes, and says in ``content`` what it left out."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameters:
    """Sampling and length controls; ``None`` leaves the model's own default."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    json_schema: str | None = None
    """A JSON Schema (as text) the answer must satisfy: structured output."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """How long a call may wait, in seconds; passing one raises :class:`ModelTimeout`."""

    connect_s: float = 5.0
    """To open the connection to the provider."""
    first_token_s: float = 60.0
    """From sending the request to the first piece of the answer (a long prompt on a CPU is slow)."""
    idle_s: float = 30.0
    """Between two pieces of the answer."""
    total_s: float = 300.0
    """For the whole call, retries included."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatRequest:
    model: str
    """The model's name at its provider (``gpt-4o-mini``, ``smollm2-135m``...)."""
    messages: Sequence[ChatMessage]
    parameters: Parameters = field(default_factory=Parameters)


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


NO_USAGE: Final = Usage()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatChunk:
    """One piece of a streamed answer; the last one has ``finish_reason`` (and usage, if known)."""

    delta: str
    finish_reason: FinishReason | None = None
    usage: Usage | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatCompletion:
    content: str
    finish_reason: FinishReason
    usage: Usage = NO_USAGE


class ChatModel(Protocol):
    """A configured model at a provider. Not transactional: never called inside a unit of work."""

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """The answer chunk by chunk as the model produces it.

        Raises (before or between chunks): :class:`ModelError` or one of its kinds.
        """
        ...

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        """The whole answer at once (the stream, gathered)."""
        ...


class Transcriber(Protocol):
    """Speech to text at a provider. Not transactional: never called inside a unit of work."""

    async def transcribe(self, audio: bytes, *, filename: str, media_type: str) -> str:
        """The words spoken in ``audio``.

        Raises: :class:`ModelError` or one of its kinds.
        """
        ...


class ModelError(Exception):
    """The model could not answer. ``retryable`` says whether the same request may succeed later."""

    retryable: bool = False

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ModelUnavailable(ModelError):
    """The provider could not be reached, or answered 5xx."""

    retryable = True


class ModelTimeout(ModelError):
    retryable = True


class ModelRateLimited(ModelError):
    """The provider said too many requests; ``retry_after_s`` when it said how long to wait."""

    retryable = True

    def __init__(self, detail: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class ModelAuthenticationFailed(ModelError):
    """The provider refused the configured credentials."""


class ModelRequestRejected(ModelError):
    """The provider refused this request (unknown model, context too long, bad parameters)."""


async def gather(chunks: AsyncIterator[ChatChunk]) -> ChatCompletion:
    """A stream made whole: what an adapter's :meth:`ChatModel.complete` can return."""
    parts: list[str] = []
    finish: FinishReason = "stop"
    usage = NO_USAGE
    async for chunk in chunks:
        parts.append(chunk.delta)
        if chunk.finish_reason is not None:
            finish = chunk.finish_reason
        if chunk.usage is not None:
            usage = chunk.usage
    return ChatCompletion(content="".join(parts), finish_reason=finish, usage=usage)
