"""Ports to chat's replicas of orchestrator's settings and AI-model registry, and the model catalog.

The replicas change only from orchestrator's events (``orchestrator.ai_model.*``,
``orchestrator.settings.changed``); an event older than what a replica holds changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from chat.domain.limits import ChatLimits
from shared.kernel.ai import ChatModel, Parameters, Timeouts, Transcriber
from shared.kernel.errors import Unprocessable


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelReplica:
    """A registry entry as orchestrator last announced it. The API key stays sealed
    (``v1:<seal key id>:<base64>``): it is unsealed only to build the model that sends it."""

    id: UUID
    name: str
    provider: str
    base_url: str | None
    model: str
    parameters: Mapping[str, Any]
    enabled: bool
    is_default: bool
    sealed_api_key: str | None = field(repr=False)
    changed_at: datetime


class ModelReplicas(Protocol):
    """Chat's copy of the AI-model registry (``uow.models``). Transactional: commit required."""

    async def callable(self, model_id: UUID) -> bool:
        """Whether ``model_id`` names a model that is enabled and not deleted."""
        ...

    async def save(self, model: ModelReplica) -> bool:
        """Stores ``model`` unless the replica holds a newer state of it (answers whether it did).
        A model deleted at or after ``model.changed_at`` stays deleted."""
        ...

    async def tombstone(self, model_id: UUID, name: str, at: datetime) -> bool:
        """Marks the model deleted as of ``at`` (kept, so an older event cannot bring it back);
        answers whether anything changed."""
        ...


class SettingsReplica(Protocol):
    """The system settings as chat's replica knows them (read in the unit of work's transaction)."""

    async def limits(self) -> ChatLimits:
        """Every setting chat obeys; one never replicated keeps its registry default."""
        ...

    async def save(self, name: str, value: Any, at: datetime) -> bool:
        """Stores the setting's value as of ``at`` unless the replica holds a newer one (answers
        whether it did). Transactional: commit required."""
        ...


class ModelNotAvailable(Unprocessable):
    """The requested model is unknown, disabled or deleted (422): the request names a model
    that cannot answer, so nothing is sent anywhere."""

    def __init__(self, model_id: UUID) -> None:
        super().__init__(f"AI model {model_id} does not exist or is not enabled")
        self.model_id = model_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSenses:
    """What a model takes beyond text."""

    vision: bool = False
    audio_input: bool = False

    @classmethod
    def of(cls, parameters: Mapping[str, object]) -> ModelSenses:
        """From a registry entry's ``parameters``: only a JSON ``true`` turns a sense on."""
        return cls(vision=parameters.get("vision") is True, audio_input=parameters.get("audio_input") is True)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedModel:
    """A model ready to call, with what a message records about it."""

    id: UUID | None
    """The registry entry; ``None`` for the built-in offline model (no entry answered)."""
    name: str
    """The model's name at its provider: what requests send (``ChatRequest.model``) and what a
    reply reports (``offline`` for the built-in one)."""
    model: ChatModel
    parameters: Parameters
    """The entry's default parameters, ``max_tokens`` capped by ``ai.max_output_tokens``. A
    provider's adapter applies them to what a request leaves unset (use cases need not pass them);
    the built-in offline model, whose answers are short, has no use for them."""
    timeouts: Timeouts
    """``total_s`` is ``ai.request_timeout_s``; the adapter enforces them."""
    senses: ModelSenses = ModelSenses()
    """What it takes beyond text (the entry's parameters ``vision``, ``audio_input``)."""
    transcriber: Transcriber | None = None
    """Speech to text at the same provider, for a model that takes no audio (the entry's
    parameter ``transcription_model``, e.g. ``whisper-1``)."""


class ModelCatalog(Protocol):
    """The AI models chat may call, from its registry replica. Not transactional: reads on its own."""

    async def resolve(self, model_id: UUID | None = None) -> ResolvedModel:
        """``model_id``'s model if it is enabled; without one, the settings' ``default_model_id`` (if
        enabled), else the registry's default, else the built-in offline model.

        Raises:
            ModelNotAvailable: ``model_id`` names no enabled model (422).
        """
        ...
