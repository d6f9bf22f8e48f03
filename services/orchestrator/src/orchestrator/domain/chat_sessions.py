"""A chat session: orchestrator's projection of a chat conversation linked to a project (and task).

chat owns conversations; orchestrator keeps what its boards need (title, links), fed by chat's
``chat.conversation.*`` events, which may arrive twice or out of order. Rules:

* a change older than (or as old as) what is stored is ignored (``as_of``: the event's
  ``updated_at``, else its ``occurred_at``);
* a deleted conversation stays deleted: its row is kept as a tombstone, so a late
  ``created``/``updated`` does not bring it back;
* a conversation linked to no project, or to a project its owner does not own here, is
  shown nowhere (``unlinked``); a later link to one of the owner's projects shows it again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

State = Literal["linked", "unlinked", "deleted"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationChange:
    """What a ``chat.conversation.*`` event says, in orchestrator's words."""

    conversation_id: UUID
    owner_id: UUID
    title: str
    project_id: UUID | None
    task_id: UUID | None
    created_at: datetime
    updated_at: datetime
    deleted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatSession:
    id: UUID
    owner_id: UUID
    project_id: UUID
    task_id: UUID | None
    title: str
    state: State
    created_at: datetime
    updated_at: datetime
    as_of: datetime
    """The time of the change the row reflects; older changes are ignored."""


def apply(
    stored: ChatSession | None, change: ConversationChange, *, owned_project: bool
) -> ChatSession | None:
    """The session after ``change``; ``None`` when there is nothing to store (or nothing changes).

    ``owned_project``: ``change.project_id`` is a project ``change.owner_id`` owns here.
    """
    if stored is not None and (stored.state == "deleted" or change.updated_at <= stored.as_of):
        return None  # a tombstone, or an old or repeated change
    if stored is not None and stored.owner_id != change.owner_id:
        return None  # a conversation never changes owner; an event that says so is not believed
    linked = change.project_id is not None and owned_project
    if change.deleted:
        state: State = "deleted"
    else:
        state = "linked" if linked else "unlinked"
    if stored is None:
        if change.project_id is None or not linked:
            return None  # nowhere to show it, and no project row to hang a tombstone from
        return ChatSession(
            id=change.conversation_id,
            owner_id=change.owner_id,
            project_id=change.project_id,
            task_id=change.task_id,
            title=change.title,
            state=state,
            created_at=change.created_at,
            updated_at=change.updated_at,
            as_of=change.updated_at,
        )
    return replace(
        stored,
        project_id=change.project_id if linked and change.project_id else stored.project_id,
        task_id=change.task_id if linked else stored.task_id,
        title=change.title,
        state=state,
        updated_at=change.updated_at,
        as_of=change.updated_at,
    )
