"""In-memory fakes of chat's application ports (no I/O), for use-case tests.

Each keeps its state in public attributes, so ``aiorch_devkit.testing.fakes.FakeUnitOfWork``
rolls it back when a block ends without a commit; the fakes of aggregate repositories add
what they hand out or take to ``seen``, as the real ones do.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from aiorch_devkit.testing.fakes import FakeUnitOfWork
from chat.application.ports.conversation_lists import ConversationFilter, Position
from chat.application.ports.ownership import ProjectFact, TaskFact
from chat.domain.conversations import Conversation
from chat.domain.events import Recorded
from chat.domain.messages import Message
from shared.kernel.aggregate import Seen


class FakeConversationRepository:
    def __init__(self, seen: Seen[Recorded]) -> None:
        self._seen = seen
        self.rows: dict[UUID, Conversation] = {}

    async def get(
        self, conversation_id: UUID, owner_id: UUID, *, for_update: bool = False
    ) -> Conversation | None:
        stored = self.rows.get(conversation_id)
        if stored is None or stored.owner_id != owner_id:
            return None
        loaded = copy.deepcopy(stored)
        self._seen.add(loaded)
        return loaded

    async def add(self, conversation: Conversation) -> None:
        self.rows[conversation.id] = _stored(conversation)
        self._seen.add(conversation)

    async def update(self, conversation: Conversation) -> None:
        assert conversation.id in self.rows, "update of a conversation never added"
        self.rows[conversation.id] = _stored(conversation)

    async def delete(self, conversation_id: UUID) -> None:
        self.rows.pop(conversation_id, None)

    async def delete_owned_by(self, owner_id: UUID) -> int:
        gone = [c.id for c in self.rows.values() if c.owner_id == owner_id]
        for conversation_id in gone:
            del self.rows[conversation_id]
        return len(gone)


class FakeMessageRepository:
    def __init__(self, seen: Seen[Recorded]) -> None:
        self._seen = seen
        self.rows: dict[UUID, Message] = {}
        self._queries = 0  # private: a read's count survives the read's rollback

    async def get(self, message_id: UUID, owner_id: UUID, *, for_update: bool = False) -> Message | None:
        stored = self.rows.get(message_id)
        if stored is None or stored.owner_id != owner_id:
            return None
        loaded = copy.deepcopy(stored)
        self._seen.add(loaded)
        return loaded

    @property
    def queries(self) -> int:
        """How many times ``of_conversation`` was asked (one per read, never one per message)."""
        return self._queries

    async def of_conversation(self, conversation_id: UUID) -> Sequence[Message]:
        self._queries += 1
        found = [copy.deepcopy(m) for m in self.rows.values() if m.conversation_id == conversation_id]
        return sorted(found, key=lambda m: m.id)

    async def add(self, message: Message) -> None:
        self.rows[message.id] = _stored(message)
        self._seen.add(message)

    async def update(self, message: Message) -> None:
        assert message.id in self.rows, "update of a message never added"
        self.rows[message.id] = _stored(message)

    async def finish(self, reply: Message) -> bool:
        stored = self.rows.get(reply.id)
        if stored is None or not stored.in_flight:
            return False
        self.rows[reply.id] = _stored(reply)
        self._seen.add(reply)
        return True


@dataclass
class _Known:
    owner_id: UUID
    deleted: bool
    at: datetime
    project_id: UUID | None = None


class FakeOwnership:
    """The replica's rules, in memory: forward only, tombstones final, a task counts while its
    project does."""

    def __init__(self) -> None:
        self.projects: dict[UUID, _Known] = {}
        self.tasks: dict[UUID, _Known] = {}

    async def owns_project(self, owner_id: UUID, project_id: UUID) -> bool:
        known = self.projects.get(project_id)
        return known is not None and known.owner_id == owner_id and not known.deleted

    async def project_of_task(self, owner_id: UUID, task_id: UUID) -> UUID | None:
        known = self.tasks.get(task_id)
        if known is None or known.owner_id != owner_id or known.deleted or known.project_id is None:
            return None
        return known.project_id if await self.owns_project(owner_id, known.project_id) else None

    async def record_project(self, fact: ProjectFact) -> bool:
        changed = _record(self.projects, fact.project_id, _Known(fact.owner_id, fact.deleted, fact.at))
        if fact.deleted:
            for task in self.tasks.values():
                if task.project_id == fact.project_id:
                    task.deleted = True
        return changed

    async def record_task(self, fact: TaskFact) -> bool:
        known = _Known(fact.owner_id, fact.deleted, fact.at, project_id=fact.project_id)
        return _record(self.tasks, fact.task_id, known)

    async def forget_owner(self, owner_id: UUID) -> int:
        for task in self.tasks.values():
            if task.owner_id == owner_id:
                task.deleted = True
        forgotten = [p for p in self.projects.values() if p.owner_id == owner_id and not p.deleted]
        for project in forgotten:
            project.deleted = True
        return len(forgotten)


def _record(table: dict[UUID, _Known], key: UUID, fact: _Known) -> bool:
    stored = table.get(key)
    if stored is not None and (stored.deleted or (not fact.deleted and stored.at >= fact.at)):
        return False
    table[key] = fact
    return True


class FakeConversationLists:
    def __init__(self, conversations: FakeConversationRepository, messages: FakeMessageRepository) -> None:
        self._conversations = conversations
        self._messages = messages

    async def page(
        self, owner_id: UUID, where: ConversationFilter, *, after: Position | None, limit: int
    ) -> Sequence[Conversation]:
        def wanted(c: Conversation) -> bool:
            return (
                c.owner_id == owner_id
                and (where.archived is None or c.archived == where.archived)
                and (where.pinned is None or c.pinned == where.pinned)
                and (where.project_id is None or c.project_id == where.project_id)
                and (where.task_id is None or c.task_id == where.task_id)
                and (after is None or (c.last_activity_at, c.id) < after)
            )

        found = [c for c in self._conversations.rows.values() if wanted(c)]
        found.sort(key=lambda c: (c.last_activity_at, c.id), reverse=True)
        return [copy.deepcopy(c) for c in found[:limit]]

    async def sibling_ids(self, conversation_id: UUID, parent_id: UUID | None) -> list[UUID]:
        siblings = [
            m
            for m in self._messages.rows.values()
            if m.conversation_id == conversation_id and m.parent_id == parent_id
        ]
        return [m.id for m in sorted(siblings, key=lambda m: (m.created_at, str(m.id)))]


def _stored(aggregate: Any) -> Any:
    """A copy without pending events, as a row would hold it."""
    stored = copy.deepcopy(aggregate)
    stored.events.clear()
    return stored


def fake_uow() -> FakeUnitOfWork[Recorded]:
    """chat's unit of work over the fakes above (``uow.conversations``, ``uow.messages``,
    ``uow.ownership``, ``uow.conversation_lists``)."""
    seen: Seen[Recorded] = Seen()
    conversations = FakeConversationRepository(seen)
    messages = FakeMessageRepository(seen)
    return FakeUnitOfWork(
        seen=seen,
        conversations=conversations,
        messages=messages,
        ownership=FakeOwnership(),
        conversation_lists=FakeConversationLists(conversations, messages),
    )
