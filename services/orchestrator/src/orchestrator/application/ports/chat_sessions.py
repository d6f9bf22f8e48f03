"""Where the projection of chat's conversations is kept."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from orchestrator.domain.chat_sessions import ChatSession


class ChatSessionRepository(Protocol):
    """Chat sessions (chat's conversations linked to a project), read through their owner.

    Transactional: changes count once the unit of work commits.
    """

    async def get_for_update(self, session_id: UUID) -> ChatSession | None:
        """The stored session, whoever owns it (consumers apply events in order of ``as_of``)."""
        ...

    async def save(self, session: ChatSession) -> None:
        """Insert or replace the row."""
        ...

    async def page(
        self,
        owner_id: UUID,
        *,
        project_id: UUID | None = None,
        task_id: UUID | None = None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> Sequence[ChatSession]:
        """The linked sessions of a project or a task, most recently updated first."""
        ...
