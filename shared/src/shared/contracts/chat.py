"""Events published by chat (stream ``CHAT``, subjects ``chat.>``)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
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


ConversationEvent = ConversationCreated | ConversationUpdated | ConversationDeleted
ChatEvent = UserErased | ConversationCreated | ConversationUpdated | ConversationDeleted
decoder = union_decoder(UserErased, ConversationCreated, ConversationUpdated, ConversationDeleted)
