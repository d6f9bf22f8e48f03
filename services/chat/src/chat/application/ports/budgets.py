"""The port to what each user spent per budget window."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID


class UsageLedger(Protocol):
    """Messages and model tokens per (owner, fixed window), ``uow.usage``. Kept apart from the
    messages, so deleting a conversation gives nothing back. Transactional: commit required."""

    async def spent(self, owner_id: UUID, window_start: datetime) -> tuple[int, int]:
        """(messages, tokens) ``owner_id`` spent in the window starting at ``window_start``; (0, 0)
        for a window with nothing spent."""
        ...

    async def add(
        self, owner_id: UUID, window_start: datetime, messages: int, tokens: int
    ) -> tuple[int, int]:
        """Adds to the window's counts and answers them, (messages, tokens) after the add (one
        statement that locks the window's row: concurrent adds both count, in turn)."""
        ...

    async def delete_owned_by(self, owner_id: UUID) -> int:
        """Every window of ``owner_id`` (erasure); answers how many."""
        ...
