"""Read queries over conversations and messages that lists and the branch switcher need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from chat.domain.conversations import Conversation

Position = tuple[datetime, UUID]
"""Where a page of conversations resumes: the last one's ``(last_activity_at, id)``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationFilter:
    """Which of the owner's conversations a list shows (``None``: either)."""

    archived: bool | None = False
    pinned: bool | None = None
    project_id: UUID | None = None
    task_id: UUID | None = None


class ConversationLists(Protocol):
    """Owner-scoped reads that load no aggregate for writing (nothing joins the unit of work)."""

    async def page(
        self, owner_id: UUID, where: ConversationFilter, *, after: Position | None, limit: int
    ) -> Sequence[Conversation]:
        """Up to ``limit`` of ``owner_id``'s conversations matching ``where``, most recently active
        first (ties by id, descending), strictly after ``after``: one query."""
        ...

    async def sibling_ids(self, conversation_id: UUID, parent_id: UUID | None) -> list[UUID]:
        """The ids of the messages under ``parent_id`` (``None``: the roots) in one conversation,
        oldest first: the alternatives a client can switch between."""
        ...
