"""A message: one node of a conversation's tree, and the tree's read rules.

Messages form a tree through ``parent_id``: editing a user message adds a sibling under the
same parent, regenerating adds a sibling assistant reply. A user message sits at the root or
under an assistant reply; an assistant reply always sits under a user message. An assistant
reply is *in flight* while ``pending``/``streaming``; it *finishes* exactly once, as
``completed``, ``stopped`` or ``failed``, keeping whatever content it had (the partial reply
of a stopped or failed generation stays readable), and records :class:`MessageCompleted`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from chat.domain.events import DomainEvent
from shared.kernel.aggregate import Aggregate
from shared.kernel.ai import NO_USAGE, Usage
from shared.kernel.errors import Conflict, InvalidInput

Sender = Literal["user", "assistant"]
MessageStatus = Literal["pending", "streaming", "completed", "stopped", "failed"]
IN_FLIGHT: frozenset[MessageStatus] = frozenset({"pending", "streaming"})
FINISHED: frozenset[MessageStatus] = frozenset({"completed", "stopped", "failed"})


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageCompleted(DomainEvent):
    """An assistant reply finished (``status`` says how); ids, model and usage, never content."""

    message_id: UUID
    conversation_id: UUID
    owner_id: UUID
    model_id: UUID | None
    status: MessageStatus
    prompt_tokens: int
    completion_tokens: int


@dataclass(slots=True, kw_only=True)
class Message(Aggregate[DomainEvent]):
    id: UUID
    conversation_id: UUID
    owner_id: UUID
    parent_id: UUID | None
    sender: Sender
    content: str = ""
    status: MessageStatus = "completed"
    model_id: UUID | None = None
    """The model that wrote an assistant reply (``None`` for a user message)."""
    metadata: dict[str, Any] = field(default_factory=dict)
    usage: Usage = NO_USAGE
    created_at: datetime
    finished_at: datetime | None = None
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def stream(self, content: str) -> None:
        """The generation's content so far (persisted in batches, not per token)."""
        self._ensure_in_flight()
        self.status, self.content = "streaming", content

    def complete(self, *, content: str, usage: Usage, now: datetime) -> None:
        self._finish("completed", content, usage, now)

    def stop(self, *, content: str | None = None, usage: Usage = NO_USAGE, now: datetime) -> None:
        """The user stopped it: the partial content is kept (``None`` keeps what is stored)."""
        self._finish("stopped", self.content if content is None else content, usage, now)

    def fail(
        self, *, reason: str, content: str | None = None, usage: Usage = NO_USAGE, now: datetime
    ) -> None:
        """The model or the process failed: partial content kept, ``reason`` in the metadata."""
        self.metadata = {**self.metadata, "error": reason}
        self._finish("failed", self.content if content is None else content, usage, now)

    def _finish(self, status: MessageStatus, content: str, usage: Usage, now: datetime) -> None:
        self._ensure_in_flight()
        self.status, self.content, self.usage, self.finished_at = status, content, usage, now
        self.record(
            MessageCompleted(
                occurred_at=now,
                message_id=self.id,
                conversation_id=self.conversation_id,
                owner_id=self.owner_id,
                model_id=self.model_id,
                status=status,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
            )
        )

    def _ensure_in_flight(self) -> None:
        if not self.in_flight:
            raise Conflict(f"message {self.id} is already {self.status}")


def ensure_content(content: str) -> str:
    if not content.strip():
        raise InvalidInput("a message needs some content")
    return content


# The tree's read rules, over the messages of one conversation (the repository loads them).


def path_to(messages: Iterable[Message], leaf_id: UUID | None) -> list[Message]:
    """The messages from the root down to ``leaf_id`` (empty when ``leaf_id`` is ``None``)."""
    by_id = {message.id: message for message in messages}
    path: list[Message] = []
    current = by_id.get(leaf_id) if leaf_id is not None else None
    while current is not None:
        path.append(current)
        current = by_id.get(current.parent_id) if current.parent_id is not None else None
    path.reverse()
    return path


def children_of(messages: Iterable[Message], parent_id: UUID | None) -> list[Message]:
    """The direct children of ``parent_id`` (``None``: the roots), oldest first."""
    return sorted((m for m in messages if m.parent_id == parent_id), key=_age)


def siblings_of(messages: Iterable[Message], message: Message) -> list[Message]:
    """The alternatives at ``message``'s place in the tree, itself included, oldest first."""
    return children_of(messages, message.parent_id)


def newest_leaf_under(messages: Iterable[Message], message_id: UUID) -> UUID:
    """The leaf reached from ``message_id`` by following the newest child at each step: what a
    conversation selects when the user switches to a branch by one of its inner messages."""
    tree: Mapping[UUID | None, list[Message]] = _by_parent(messages)
    current = message_id
    while kids := tree.get(current):
        current = max(kids, key=_age).id
    return current


def path_with_siblings(messages: Iterable[Message], leaf_id: UUID | None) -> list[tuple[Message, list[UUID]]]:
    """:func:`path_to` ``leaf_id``, each message with the ids of its siblings (itself included,
    oldest first): what a client needs to show the branch and switch at any step. One pass
    over the messages, whatever the path's length."""
    loaded = list(messages)
    tree = _by_parent(loaded)
    return [
        (message, [m.id for m in sorted(tree[message.parent_id], key=_age)])
        for message in path_to(loaded, leaf_id)
    ]


def _by_parent(messages: Iterable[Message]) -> dict[UUID | None, list[Message]]:
    tree: dict[UUID | None, list[Message]] = {}
    for message in messages:
        tree.setdefault(message.parent_id, []).append(message)
    return tree


def _age(message: Message) -> tuple[datetime, str]:
    # Ties (same clock tick) are broken by id so the order is stable; ids are UUIDv7 (time-ordered).
    return message.created_at, str(message.id)
