"""Conversations: create, list, read, change (title, model, pin, archive, links), delete; and
reading their message trees (the selected branch or a given one) and switching branch.

Everything goes through the owner: another owner's conversation or message is "not found",
so nobody learns whether an id exists. A link to a project or task is checked against the
ownership replica (chat never asks orchestrator): one the caller does not own, or a task
outside the given project, is refused naming the field. Posting messages is not here.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal
from uuid import UUID

from chat.application.ports import UnitOfWork
from chat.application.ports.conversation_lists import ConversationFilter, Position
from chat.domain.conversations import Conversation
from chat.domain.messages import Message, newest_leaf_under, path_with_siblings
from shared.kernel.clock import Clock, SystemClock
from shared.kernel.errors import NotFound, Unprocessable
from shared.kernel.ids import new_id

_CLOCK: Final = SystemClock()


class Keep(enum.Enum):
    """An update's "leave it as it is" (``None`` means "clear it" for the links and the model)."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


class UnusableReference(Unprocessable):
    """A request names something that exists nowhere the caller can use it: 422, naming ``field``
    (``project_id``, ``task_id``, ``leaf_id``...) so a client can show it where it was typed."""

    def __init__(self, field: str, detail: str, *, where: Literal["body", "query"] = "body") -> None:
        super().__init__(detail)
        self.field = field
        self.where = where


# --- commands and views ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateConversation:
    owner_id: UUID
    title: str | None = None
    model_id: UUID | None = None
    project_id: UUID | None = None
    task_id: UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateConversation:
    """Absent fields (:data:`KEEP`) stay as they are."""

    owner_id: UUID
    conversation_id: UUID
    title: str | Keep = KEEP
    model_id: UUID | Keep | None = KEEP
    pinned: bool | Keep = KEEP
    archived: bool | Keep = KEEP
    project_id: UUID | Keep | None = KEEP
    task_id: UUID | Keep | None = KEEP


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchMessage:
    """One message of a branch, with its alternatives (``sibling_ids``, itself included)."""

    message: Message
    sibling_ids: list[UUID]

    @property
    def sibling_index(self) -> int:
        return self.sibling_ids.index(self.message.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch:
    """A conversation's messages from the root down to ``leaf_id`` (empty: no messages yet)."""

    conversation: Conversation
    leaf_id: UUID | None
    messages: list[BranchMessage]


# --- helpers --------------------------------------------------------------------------------


async def owned_conversation(
    uow: UnitOfWork, conversation_id: UUID, owner_id: UUID, *, for_update: bool = False
) -> Conversation:
    """The conversation ``owner_id`` owns, inside ``uow``'s open transaction.

    Raises:
        NotFound: no such conversation, or it is someone else's.
    """
    conversation = await uow.conversations.get(conversation_id, owner_id, for_update=for_update)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


async def checked_links(
    uow: UnitOfWork, owner_id: UUID, project_id: UUID | None, task_id: UUID | None
) -> tuple[UUID | None, UUID | None]:
    """The links as stored: a task given alone brings its project.

    Raises:
        UnusableReference: the project or task is not the owner's (or not known yet, or
            deleted), or the task is not in the given project.
    """
    if task_id is not None:
        task_project = await uow.ownership.project_of_task(owner_id, task_id)
        if task_project is None:
            raise UnusableReference("task_id", f"task {task_id} is not one of your tasks")
        if project_id is None:
            return task_project, task_id
        if task_project != project_id:
            raise UnusableReference("task_id", f"task {task_id} is not in project {project_id}")
    if project_id is not None and not await uow.ownership.owns_project(owner_id, project_id):
        raise UnusableReference("project_id", f"project {project_id} is not one of your projects")
    return project_id, task_id


# --- conversations --------------------------------------------------------------------------


async def create_conversation(
    cmd: CreateConversation, uow: UnitOfWork, *, clock: Clock = _CLOCK
) -> Conversation:
    """A new, empty conversation of ``cmd.owner_id``; a blank title leaves it for the model to
    write after the first exchange. Announces ``ConversationCreated``."""
    async with uow:
        project_id, task_id = await checked_links(uow, cmd.owner_id, cmd.project_id, cmd.task_id)
        await _checked_model(uow, cmd.model_id)
        conversation = Conversation.create(
            id=new_id(),
            owner_id=cmd.owner_id,
            now=clock.now(),
            title=cmd.title,
            model_id=cmd.model_id,
            project_id=project_id,
            task_id=task_id,
        )
        await uow.conversations.add(conversation)
        await uow.commit()
    return conversation


async def get_conversation(owner_id: UUID, conversation_id: UUID, uow: UnitOfWork) -> Conversation:
    """The conversation. Raises NotFound for someone else's."""
    async with uow:
        return await owned_conversation(uow, conversation_id, owner_id)


async def list_conversations(
    owner_id: UUID, uow: UnitOfWork, *, where: ConversationFilter, after: Position | None, limit: int
) -> list[Conversation]:
    """Up to ``limit`` of the owner's conversations matching ``where``, most recently active
    first, strictly after ``after`` (the previous page's last ``(last_activity_at, id)``)."""
    async with uow:
        return list(await uow.conversation_lists.page(owner_id, where, after=after, limit=limit))


async def update_conversation(
    cmd: UpdateConversation, uow: UnitOfWork, *, clock: Clock = _CLOCK
) -> Conversation:
    """Renames, changes the model, pins, archives or relinks the conversation (one
    ``ConversationUpdated`` for the lot; nothing when nothing changed).

    Links: ``project_id`` ``None`` unlinks the project and its task; ``task_id`` ``None`` the
    task only; a task given alone brings its project. Moving to another project drops a task
    that is not in it. Only the links the request names are checked against the replica.
    """
    async with uow:
        conversation = await owned_conversation(uow, cmd.conversation_id, cmd.owner_id, for_update=True)
        now = clock.now()
        if cmd.project_id is not KEEP or cmd.task_id is not KEEP:
            project_id, task_id = await _relinked(uow, conversation, cmd)
            conversation.link(project_id=project_id, task_id=task_id, now=now)
        if not isinstance(cmd.title, Keep):
            conversation.rename(cmd.title, now)
        if not isinstance(cmd.model_id, Keep):
            if cmd.model_id != conversation.model_id:
                await _checked_model(uow, cmd.model_id)
            conversation.change_model(cmd.model_id, now)
        if not isinstance(cmd.pinned, Keep):
            conversation.pin(cmd.pinned, now)
        if not isinstance(cmd.archived, Keep):
            conversation.archive(cmd.archived, now)
        # several changes, one event: the last states them all
        updates = conversation.events
        if len(updates) > 1:
            del updates[:-1]
        if updates:
            await uow.conversations.update(conversation)
        await uow.commit()
    return conversation


async def _relinked(
    uow: UnitOfWork, conversation: Conversation, cmd: UpdateConversation
) -> tuple[UUID | None, UUID | None]:
    named_project = not isinstance(cmd.project_id, Keep)
    project_id = cmd.project_id if not isinstance(cmd.project_id, Keep) else conversation.project_id
    if cmd.task_id is None:
        if named_project:
            project_id, _ = await checked_links(uow, cmd.owner_id, project_id, None)
        return project_id, None
    if not isinstance(cmd.task_id, Keep):
        if named_project and project_id is None:
            raise UnusableReference("task_id", "a task link needs its project: project_id is null")
        return await checked_links(uow, cmd.owner_id, project_id if named_project else None, cmd.task_id)
    # only the project named: keep the task if it is in the new project
    project_id, _ = await checked_links(uow, cmd.owner_id, project_id, None)
    task_id = conversation.task_id
    if task_id is not None and (
        project_id is None or await uow.ownership.project_of_task(cmd.owner_id, task_id) != project_id
    ):
        task_id = None
    return project_id, task_id


async def delete_conversation(
    owner_id: UUID, conversation_id: UUID, uow: UnitOfWork, *, clock: Clock = _CLOCK
) -> None:
    """Deletes the conversation with all its messages and branches. Announces
    ``ConversationDeleted``."""
    async with uow:
        conversation = await owned_conversation(uow, conversation_id, owner_id, for_update=True)
        conversation.delete(clock.now())
        await uow.conversations.delete(conversation.id)
        await uow.commit()


# --- reading messages -----------------------------------------------------------------------


async def read_branch(
    owner_id: UUID, conversation_id: UUID, uow: UnitOfWork, *, through: UUID | None = None
) -> Branch:
    """The selected branch (root → selected leaf) or, given ``through``, the branch through that
    message down to its newest leaf. Every message comes with its siblings. Two queries (the
    conversation, then all its messages), whatever the tree's size.

    Raises:
        NotFound: not the caller's conversation.
        UnusableReference: ``through`` is no message of this conversation (``leaf_id``).
    """
    async with uow:
        conversation = await owned_conversation(uow, conversation_id, owner_id)
        messages = await uow.messages.of_conversation(conversation.id)
    leaf_id = conversation.selected_leaf_id
    if through is not None:
        leaf_id = _leaf_through(messages, through, where="query")
    return _branch(conversation, messages, leaf_id)


async def select_branch(owner_id: UUID, conversation_id: UUID, message_id: UUID, uow: UnitOfWork) -> Branch:
    """Remembers the branch through ``message_id`` (down to its newest leaf when it is not a
    leaf) as the conversation's selected one, and answers it. Announces nothing: which branch
    is shown is the owner's view, not news for other services.

    Raises:
        NotFound: not the caller's conversation.
        UnusableReference: ``message_id`` is no message of this conversation (``leaf_id``).
    """
    async with uow:
        conversation = await owned_conversation(uow, conversation_id, owner_id, for_update=True)
        messages = await uow.messages.of_conversation(conversation.id)
        leaf_id = _leaf_through(messages, message_id, where="body")
        if leaf_id != conversation.selected_leaf_id:
            conversation.select(leaf_id)
            await uow.conversations.update(conversation)
        await uow.commit()
    return _branch(conversation, messages, leaf_id)


async def get_message(owner_id: UUID, message_id: UUID, uow: UnitOfWork) -> BranchMessage:
    """One message with its siblings. Raises NotFound for someone else's."""
    async with uow:
        message = await uow.messages.get(message_id, owner_id)
        if message is None:
            raise NotFound(f"message {message_id} not found")
        siblings = await uow.conversation_lists.sibling_ids(message.conversation_id, message.parent_id)
    return BranchMessage(message=message, sibling_ids=siblings)


def _leaf_through(messages: Sequence[Message], message_id: UUID, *, where: Literal["body", "query"]) -> UUID:
    if not any(m.id == message_id for m in messages):
        raise UnusableReference("leaf_id", f"message {message_id} is not in this conversation", where=where)
    return newest_leaf_under(messages, message_id)


def _branch(conversation: Conversation, messages: Sequence[Message], leaf_id: UUID | None) -> Branch:
    steps = path_with_siblings(messages, leaf_id)
    return Branch(
        conversation=conversation,
        leaf_id=leaf_id if steps else None,
        messages=[BranchMessage(message=m, sibling_ids=ids) for m, ids in steps],
    )


async def _checked_model(uow: UnitOfWork, model_id: UUID | None) -> None:
    """A conversation names a model that can answer (enabled in chat's registry replica), or none."""
    if model_id is not None and not await uow.models.callable(model_id):
        raise UnusableReference("model_id", f"AI model {model_id} does not exist or is not enabled")
