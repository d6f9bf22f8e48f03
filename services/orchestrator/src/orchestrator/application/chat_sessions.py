"""Chat sessions: keep the projection of chat's conversations, and list a project's or task's.

The rules of the projection are in ``domain.chat_sessions``; here they meet the stores. The
projection changes only from chat's events (no API writes it).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from orchestrator.application.ports import UnitOfWork
from orchestrator.application.projects import owned_project
from orchestrator.domain.chat_sessions import ChatSession, ConversationChange, apply
from shared.kernel.errors import NotFound


async def project_conversation(change: ConversationChange, uow: UnitOfWork) -> bool:
    """Apply one conversation change (the consumer's transaction holds the inbox row).

    A change older than the stored one, one to a deleted session, or a link to a project the
    owner does not own here changes nothing (answers ``False``); none of them is an error.
    """
    async with uow:
        stored = await uow.chat_sessions.get_for_update(change.conversation_id)
        owned = (
            change.project_id is not None
            and await uow.projects.get(change.project_id, change.owner_id) is not None
        )
        # a task of another project is not linked: the session stays on its project
        if (
            owned
            and change.task_id is not None
            and await uow.task_links.project_of(change.task_id, change.owner_id) != change.project_id
        ):
            change = _without_task(change)
        session = apply(stored, change, owned_project=owned)
        if session is None:
            return False
        await uow.chat_sessions.save(session)
        await uow.commit()
    return True


def _without_task(change: ConversationChange) -> ConversationChange:
    return ConversationChange(
        conversation_id=change.conversation_id,
        owner_id=change.owner_id,
        title=change.title,
        project_id=change.project_id,
        task_id=None,
        created_at=change.created_at,
        updated_at=change.updated_at,
        deleted=change.deleted,
    )


async def project_sessions(
    project_id: UUID, owner_id: UUID, uow: UnitOfWork, *, after: tuple[datetime, UUID] | None, limit: int
) -> list[ChatSession]:
    """The project's chat sessions, most recently updated first. NotFound: not the caller's project."""
    async with uow:
        await owned_project(uow, project_id, owner_id)
        return list(await uow.chat_sessions.page(owner_id, project_id=project_id, after=after, limit=limit))


async def task_sessions(
    task_id: UUID, owner_id: UUID, uow: UnitOfWork, *, after: tuple[datetime, UUID] | None, limit: int
) -> list[ChatSession]:
    """The task's chat sessions, most recently updated first. NotFound: not the caller's task."""
    async with uow:
        if await uow.task_links.project_of(task_id, owner_id) is None:
            raise NotFound(f"task {task_id} not found")
        return list(await uow.chat_sessions.page(owner_id, task_id=task_id, after=after, limit=limit))
