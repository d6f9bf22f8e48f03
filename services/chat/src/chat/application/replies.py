"""Posting, editing and regenerating: each adds a pending assistant reply that a generation
(``chat.application.generator``) then writes.

Rules: the conversation is locked while its tree grows (two posts never pick the same parent);
the budget is checked, and the posted message counted, before any model is called; a message
longer than ``chat.max_message_chars`` is refused. Nothing here calls a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from chat.application.attachments import attach_to_message
from chat.application.budgets import charge_message
from chat.application.conversations import UnusableReference
from chat.application.ports import UnitOfWork
from chat.domain.conversations import Conversation
from chat.domain.messages import Message
from shared.kernel.clock import Clock
from shared.kernel.errors import InvalidInput, NotFound
from shared.kernel.ids import new_id


@dataclass(frozen=True, slots=True, kw_only=True)
class PostMessage:
    conversation_id: UUID
    owner_id: UUID
    content: str
    parent_id: UUID | None = None
    """The assistant reply it answers; ``None``: the conversation's selected leaf."""
    attachment_ids: tuple[UUID, ...] = field(default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class EditMessage:
    message_id: UUID
    owner_id: UUID
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Started:
    """What a client needs to follow the reply: the conversation, the user message (none on a
    regenerate) and the pending reply."""

    conversation: Conversation
    user_message: Message | None
    reply: Message
    branch: tuple[Message, ...] | None = None
    """The messages the reply answers, when the use case knows them whole (a conversation's first
    message, with no attachments): its generation need not read them back."""


async def post_message(cmd: PostMessage, uow: UnitOfWork, *, clock: Clock) -> Started:
    """A user message under the selected leaf (or ``parent_id``) and its pending reply, selected."""
    async with uow:
        conversation = await _locked_conversation(uow, cmd.conversation_id, cmd.owner_id)
        await _admit(uow, cmd.owner_id, cmd.content, clock)
        parent_id = cmd.parent_id if cmd.parent_id is not None else conversation.selected_leaf_id
        parent = None if parent_id is None else await uow.messages.get(parent_id, cmd.owner_id)
        if parent_id is not None and (parent is None or parent.conversation_id != conversation.id):
            raise UnusableReference(
                "parent_id", f"parent_id {parent_id} is not a message of this conversation"
            )
        now = clock.now()
        user = conversation.post(id=new_id(), content=cmd.content, parent=parent, now=now)
        reply = conversation.start_reply(id=new_id(), to=user, now=now)
        await _store(uow, conversation, user, reply)
        if cmd.attachment_ids:
            await attach_to_message(uow, cmd.owner_id, user.id, cmd.attachment_ids)
        await uow.commit()
    known = (user,) if parent is None and not cmd.attachment_ids else None
    return Started(conversation=conversation, user_message=user, reply=reply, branch=known)


async def edit_message(cmd: EditMessage, uow: UnitOfWork, *, clock: Clock) -> Started:
    """A sibling of a user message with new content, and a reply to it; the original branch stays."""
    async with uow:
        original = await _message(uow, cmd.message_id, cmd.owner_id)
        conversation = await _locked_conversation(uow, original.conversation_id, cmd.owner_id)
        await _admit(uow, cmd.owner_id, cmd.content, clock)
        now = clock.now()
        user = conversation.edit(id=new_id(), original=original, content=cmd.content, now=now)
        reply = conversation.start_reply(id=new_id(), to=user, now=now)
        await _store(uow, conversation, user, reply)
        await uow.commit()
    return Started(conversation=conversation, user_message=user, reply=reply)


async def regenerate_reply(message_id: UUID, owner_id: UUID, uow: UnitOfWork, *, clock: Clock) -> Started:
    """A new reply beside a finished one (completed, stopped or failed), to the same user message."""
    async with uow:
        original = await _message(uow, message_id, owner_id)
        conversation = await _locked_conversation(uow, original.conversation_id, owner_id)
        await _admit(uow, owner_id, None, clock)
        reply = conversation.regenerate(id=new_id(), original=original, now=clock.now())
        await _store(uow, conversation, None, reply)
        await uow.commit()
    return Started(conversation=conversation, user_message=None, reply=reply)


async def _locked_conversation(uow: UnitOfWork, conversation_id: UUID, owner_id: UUID) -> Conversation:
    conversation = await uow.conversations.get(conversation_id, owner_id, for_update=True)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


async def _message(uow: UnitOfWork, message_id: UUID, owner_id: UUID) -> Message:
    message = await uow.messages.get(message_id, owner_id)
    if message is None:
        raise NotFound(f"message {message_id} not found")
    return message


async def _admit(uow: UnitOfWork, owner_id: UUID, content: str | None, clock: Clock) -> None:
    limits = await uow.settings.limits()
    if content is not None and len(content) > limits.max_message_chars:
        raise InvalidInput(f"a message is at most {limits.max_message_chars} characters")
    now = clock.now()
    await charge_message(owner_id, now, limits, uow)


async def _store(uow: UnitOfWork, conversation: Conversation, user: Message | None, reply: Message) -> None:
    if user is not None:
        await uow.messages.add(user)
    await uow.messages.add(reply)
    await uow.conversations.update(conversation)
