"""Where AI models are kept, and how their API keys are protected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from orchestrator.domain.ai_models import AIModel, SealedKey, StoredKey
from shared.kernel.ai import ChatModel
from shared.kernel.errors import Conflict
from shared.kernel.pagination import Page


class KeyUnreadable(Conflict):
    """A stored or sealed API key cannot be decrypted (unknown key id, altered, another row's).

    Never answered with the value: the remedy is to set the model's key again.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectedKey:
    """A new API key in the forms orchestrator keeps and tells: stored, sealed, masked."""

    stored: StoredKey = field(repr=False)
    sealed: SealedKey = field(repr=False)
    hint: str


class ApiKeyVault(Protocol):
    """Encrypts API keys at rest and seals them for replicas; bound to the model's id.

    Not transactional (key material only). Raises :class:`KeyUnreadable` for a stored
    value it cannot decrypt; never returns or logs a plaintext except from ``reveal``.
    """

    def protect(self, plaintext: str, model_id: UUID) -> ProtectedKey: ...

    def seal(self, stored: StoredKey, model_id: UUID) -> SealedKey:
        """The stored key sealed again for an event (the model changed, its key did not)."""
        ...


class AIModelRepository(Protocol):
    """The registry. Transactional: changes count once the unit of work commits."""

    async def get(self, model_id: UUID, *, for_update: bool = False) -> AIModel | None: ...

    async def get_by_name(self, name: str) -> AIModel | None: ...

    async def get_default(self, *, for_update: bool = False) -> AIModel | None:
        """The model marked default, if any (at most one is)."""
        ...

    async def list(self, *, enabled_only: bool, cursor: str | None, limit: int | None) -> Page[AIModel]:
        """By name; ``enabled_only`` for users, who see only the models they may call."""
        ...

    async def with_keys(self, *, for_update: bool = False) -> Sequence[AIModel]:
        """Every model that has an API key (a key rotation re-encrypts them all)."""
        ...

    async def add(self, model: AIModel) -> None: ...

    async def update(self, model: AIModel) -> None: ...

    async def delete(self, model_id: UUID) -> None: ...


class ModelConnector(Protocol):
    """Makes a registry entry callable, enabled or not (an admin's connectivity check).

    Not transactional. Decrypts the key at this moment only.

    Raises:
        KeyUnreadable: the model's stored key cannot be decrypted.
    """

    def connect(self, model: AIModel) -> ChatModel: ...


class KeyRing(Protocol):
    """The keys API keys are encrypted under at rest, for their rotation. Not transactional."""

    def rotate(self) -> str:
        """Adds a new key and makes it current (older ones stay, to decrypt); answers its id."""
        ...

    def reencrypt(self, stored: StoredKey, model_id: UUID) -> StoredKey:
        """``stored`` under the current key (the same value when it already is).

        Raises:
            KeyUnreadable: ``stored`` cannot be decrypted.
        """
        ...
