"""Events published by chat (stream ``CHAT``, subjects ``chat.>``)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from shared.contracts.base import Event, union_decoder

STREAM = "CHAT"
SUBJECTS = "chat.>"


class UserErased(Event, frozen=True, kw_only=True, tag="aiorch.chat.user.erased.v1"):
    """chat holds nothing of ``user_id`` any more: the receipt for an ``identity.user.deleted``.

    Published once per user, however often the deletion is delivered.
    """

    subject: ClassVar[str] = "chat.user.erased"
    user_id: UUID
    erased_at: datetime
    cause_event_id: UUID
    """The ``event_id`` of the ``identity.user.deleted`` that asked for the erasure."""

    @property
    def subject_id(self) -> str:
        return str(self.user_id)


class _ConversationEvent(Event, frozen=True, kw_only=True):
    """A conversation as it is after the change: ids, owner, title and links; never its messages."""

    conversation_id: UUID
    owner_id: UUID
    title: str
    project_id: UUID | None = None
    """The orchestrator project the conversation is about, if any."""
    task_id: UUID | None = None
    """The orchestrator task (of ``project_id``) the conversation is about, if any."""
    created_at: datetime
    updated_at: datetime
    """When the conversation last changed: consumers ignore a change older than what they hold."""

    @property
    def subject_id(self) -> str:
        return str(self.conversation_id)


class ConversationCreated(
    _ConversationEvent, frozen=True, kw_only=True, tag="aiorch.chat.conversation.created.v1"
):
    subject: ClassVar[str] = "chat.conversation.created"


class ConversationUpdated(
    _ConversationEvent, frozen=True, kw_only=True, tag="aiorch.chat.conversation.updated.v1"
):
    """Its title or its links changed."""

    subject: ClassVar[str] = "chat.conversation.updated"


class ConversationDeleted(
    _ConversationEvent, frozen=True, kw_only=True, tag="aiorch.chat.conversation.deleted.v1"
):
    """Gone for good; ``updated_at`` is when it was deleted."""

    subject: ClassVar[str] = "chat.conversation.deleted"


class MessageCompleted(Event, frozen=True, kw_only=True, tag="aiorch.chat.message.completed.v1"):
    """An assistant reply finished: ids, model, token usage and how it ended; never its content
    (read it at ``GET /api/v1/messages/{message_id}``). Published once per reply."""

    subject: ClassVar[str] = "chat.message.completed"
    message_id: UUID
    conversation_id: UUID
    owner_id: UUID
    model_id: UUID | None = None
    """The registry model that wrote it (``None``: the built-in offline model)."""
    status: Literal["completed", "stopped", "failed"]
    """``completed``; ``stopped`` by its owner; ``failed`` (model error or its process died)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def subject_id(self) -> str:
        return str(self.conversation_id)


ConversationEvent = ConversationCreated | ConversationUpdated | ConversationDeleted
ChatEvent = UserErased | ConversationCreated | ConversationUpdated | ConversationDeleted | MessageCompleted
decoder = union_decoder(
    UserErased, ConversationCreated, ConversationUpdated, ConversationDeleted, MessageCompleted
)
