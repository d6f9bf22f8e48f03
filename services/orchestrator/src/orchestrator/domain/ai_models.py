"""The AI-model registry: which providers and models the services may call, and with what key.

Rules:
* a model's ``name`` (what admins and users pick it by) is unique; ``model`` is its name
  at the provider;
* at most one model is the default, and the default is enabled (a disabled model answers
  nobody);
* the API key is never held in plaintext here: the aggregate keeps it as stored
  (:class:`StoredKey`, encrypted at rest by an adapter) and its masked hint; its events
  carry it only as a :class:`SealedKey`, sealed by an adapter for the services that call
  models (chat keeps a replica of the registry). The domain treats both as opaque bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, get_args
from uuid import UUID

from orchestrator.domain.events import DomainEvent
from shared.kernel.aggregate import Aggregate
from shared.kernel.errors import InvalidInput

Provider = Literal["openai", "ollama", "offline", "local"]
PROVIDERS: Final[tuple[str, ...]] = get_args(Provider)
NEEDS_BASE_URL: Final = frozenset({"openai", "ollama", "local"})
"""Providers reached over HTTP; ``offline`` is built in and needs no URL."""


@dataclass(frozen=True, slots=True)
class StoredKey:
    """An API key as stored: the id of the key that encrypted it, and the ciphertext."""

    key_id: str
    ciphertext: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class SealedKey:
    """An API key sealed for the services that call models: opaque text for an event."""

    text: str = field(repr=False)


def mask_api_key(plaintext: str) -> str:
    """What a response shows of a key: ``sk-…abcd`` (a long key), ``…cd`` (a short one), ``…``.

    Never more than 7 characters of a key at least 16 long, and never half of a shorter one.
    """
    if len(plaintext) >= 16:
        prefix = plaintext[:3] if plaintext[:3].isascii() and "-" in plaintext[:4] else ""
        return f"{prefix}…{plaintext[-4:]}"
    if len(plaintext) >= 8:
        return f"…{plaintext[-2:]}"
    return "…"


@dataclass(frozen=True, slots=True, kw_only=True)
class AIModelEvent(DomainEvent):
    model_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class AIModelChanged(AIModelEvent):
    """The model as it is now (created or updated): every field a replica keeps."""

    name: str
    provider: Provider
    base_url: str | None
    model: str
    parameters: Mapping[str, Any]
    enabled: bool
    is_default: bool
    api_key_hint: str | None
    sealed_api_key: SealedKey | None = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AIModelCreated(AIModelChanged):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class AIModelUpdated(AIModelChanged):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class AIModelDeleted(AIModelEvent):
    name: str


@dataclass(slots=True, kw_only=True)
class AIModel(Aggregate[DomainEvent]):
    id: UUID
    name: str
    provider: Provider
    base_url: str | None
    model: str
    parameters: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    is_default: bool = False
    api_key: StoredKey | None = field(default=None, repr=False)
    api_key_hint: str | None = None
    created_at: datetime
    updated_at: datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        name: str,
        provider: Provider,
        base_url: str | None,
        model: str,
        parameters: dict[str, Any],
        enabled: bool,
        is_default: bool,
        api_key: StoredKey | None,
        api_key_hint: str | None,
        sealed_api_key: SealedKey | None,
        now: datetime,
    ) -> AIModel:
        created = cls(
            id=id,
            name=name,
            provider=provider,
            base_url=base_url,
            model=model,
            parameters=parameters,
            enabled=enabled,
            is_default=is_default,
            api_key=api_key,
            api_key_hint=api_key_hint,
            created_at=now,
            updated_at=now,
        )
        created.check()
        created.record(created._changed(AIModelCreated, now, sealed_api_key))
        return created

    def check(self) -> None:
        """The rules that span fields; field formats are checked where the input is parsed."""
        if self.provider in NEEDS_BASE_URL and not self.base_url:
            raise InvalidInput(f"a model of provider {self.provider} needs a base_url")
        if self.is_default and not self.enabled:
            raise InvalidInput("the default model must be enabled: enable it, or make another the default")

    def changed(self, *, now: datetime, sealed_api_key: SealedKey | None) -> None:
        """Records that the fields set since the last event are the model now (after :meth:`check`)."""
        self.check()
        self.updated_at = now
        self.record(self._changed(AIModelUpdated, now, sealed_api_key))

    def delete(self, now: datetime) -> None:
        self.record(AIModelDeleted(occurred_at=now, model_id=self.id, name=self.name))

    def _changed(self, kind: type[AIModelChanged], now: datetime, sealed: SealedKey | None) -> AIModelChanged:
        return kind(
            occurred_at=now,
            model_id=self.id,
            name=self.name,
            provider=self.provider,
            base_url=self.base_url,
            model=self.model,
            parameters=dict(self.parameters),
            enabled=self.enabled,
            is_default=self.is_default,
            api_key_hint=self.api_key_hint,
            sealed_api_key=sealed,
        )
