"""Which AI model answers: the registry's default, or one the caller chose."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from shared.kernel.ai import ChatModel


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedModel:
    """A configured model ready to call, with what a response says about it."""

    id: UUID | None
    """The registry entry; ``None`` for the built-in offline model when the registry has no default."""
    name: str
    """The model's name at its provider: what requests send and responses report (``offline``...)."""
    provider: str
    model: ChatModel


class ModelCatalog(Protocol):
    """The AI models a use case may call. Not transactional: reads the registry on its own."""

    async def resolve(self, model_id: UUID | None = None) -> ResolvedModel:
        """``model_id``'s model if it is enabled, else the default one.

        Raises:
            NotFound: ``model_id`` names no enabled model.
        """
        ...
