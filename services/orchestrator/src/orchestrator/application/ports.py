"""The ports orchestrator's use cases depend on; adapters implement them."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from orchestrator.domain.erasure import Erasure
from shared.kernel import unit_of_work


class ErasureRepository(Protocol):
    """The record of users whose data orchestrator has erased."""

    async def get(self, user_id: UUID) -> Erasure | None:
        """The erasure of ``user_id``, or None if it never happened."""
        ...

    async def add(self, erasure: Erasure) -> None:
        """Record an erasure; at most one per user (the caller checks with :meth:`get`)."""
        ...


class UnitOfWork(unit_of_work.UnitOfWork, Protocol):
    """orchestrator's transaction (see ``shared.kernel.unit_of_work``) and its repositories."""

    erasures: ErasureRepository
