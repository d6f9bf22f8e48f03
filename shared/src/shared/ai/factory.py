"""One configured model, built as the adapter its provider needs.

Providers:

- ``openai``: any OpenAI-compatible ``/chat/completions`` (OpenAI by default; vLLM, gateways...);
- ``ollama``: Ollama's ``/api/chat``;
- ``offline``: the built-in deterministic model (no network; ``offline_writers`` answer schemas);
- ``local``: llama-cpp-python's OpenAI-compatible server on this machine (``make run LLM=local``),
  which takes a JSON schema as ``response_format: {"type": "json_object", "schema": ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, get_args

import httpx

from shared.ai.offline import AnswerWriter, OfflineModel
from shared.ai.ollama import OllamaModel
from shared.ai.openai_compatible import OpenAICompatibleModel
from shared.ai.resilience import RetryPolicy
from shared.ai.transcription import OpenAICompatibleTranscriber
from shared.kernel.ai import ChatModel, Parameters, Timeouts

Provider = Literal["openai", "ollama", "offline", "local"]
PROVIDERS: Final[tuple[str, ...]] = get_args(Provider)

DEFAULT_BASE_URLS: Final[Mapping[str, str]] = MappingProxyType(
    {"openai": "https://api.openai.com/v1", "ollama": "http://127.0.0.1:11434"}
)
"""Where a provider is when its configuration names no base URL (``local`` always names one)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelConfig:
    """A model as a registry stores it; the API key is plain here, so this never goes to a log."""

    provider: Provider
    model: str
    """The model's name at its provider (``gpt-4o-mini``, ``llama3.2``, ``offline``...)."""
    base_url: str | None = None
    """The provider's API root: ``https://api.openai.com/v1``, ``http://127.0.0.1:8091/v1``..."""
    api_key: str | None = field(default=None, repr=False)
    parameters: Parameters = field(default_factory=Parameters)
    """Defaults for what a request leaves unset."""
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    name: str | None = None
    """How the model is shown (a registry entry's name); the provider's model name by default."""


def build_model(
    config: ModelConfig,
    *,
    http: httpx.AsyncClient,
    offline_writers: Mapping[str, AnswerWriter] = MappingProxyType({}),
    offline_pace_s: float = 0.0,
) -> ChatModel:
    """The adapter for ``config``. ``http`` is the process's one shared client (the adapters never close it).

    Raises ``ValueError`` for an unknown provider or a ``local`` model without a base URL.
    """
    if config.provider == "offline":
        return OfflineModel(pace_s=offline_pace_s, writers=offline_writers, name=config.name or "offline")
    if config.provider not in PROVIDERS:
        raise ValueError(f"unknown model provider {config.provider!r}; known: {', '.join(PROVIDERS)}")
    base_url = config.base_url or DEFAULT_BASE_URLS.get(config.provider)
    if base_url is None:
        raise ValueError(f"a {config.provider!r} model needs a base URL")
    if config.provider == "ollama":
        return OllamaModel(
            http=http,
            base_url=base_url,
            model=config.model,
            api_key=config.api_key,
            defaults=config.parameters,
            timeouts=config.timeouts,
            retry=config.retry,
            name=config.name,
        )
    return OpenAICompatibleModel(
        http=http,
        base_url=base_url,
        model=config.model,
        api_key=config.api_key,
        defaults=config.parameters,
        timeouts=config.timeouts,
        retry=config.retry,
        structured_output="json_object" if config.provider == "local" else "json_schema",
        name=config.name,
    )


def build_transcriber(
    config: ModelConfig, transcription_model: str, *, http: httpx.AsyncClient
) -> OpenAICompatibleTranscriber | None:
    """Speech to text at ``config``'s provider with ``transcription_model``, where the provider
    speaks OpenAI's API (``openai``, ``local``); ``None`` for the others."""
    if config.provider not in ("openai", "local"):
        return None
    base_url = config.base_url or DEFAULT_BASE_URLS.get(config.provider)
    if base_url is None:
        return None
    return OpenAICompatibleTranscriber(
        http=http,
        base_url=base_url,
        model=transcription_model,
        api_key=config.api_key,
        timeouts=config.timeouts,
    )
