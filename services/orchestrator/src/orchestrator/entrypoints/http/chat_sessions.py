"""Chat sessions: chat's conversations about one of my projects or tasks (a read-only projection)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import get
from litestar.params import PathParameter

from orchestrator.application import chat_sessions as use_cases
from orchestrator.domain.chat_sessions import ChatSession
from orchestrator.entrypoints.http.dependencies import UnitOfWorkDep
from orchestrator.entrypoints.http.openapi import problems
from orchestrator.entrypoints.http.parameters import Cursor, Limit
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.kernel.pagination import Page, clamp_limit, decode_cursor, page_from_rows

_Position = tuple[datetime, UUID]


class ChatSessionResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: Annotated[UUID, msgspec.Meta(description="The chat service's conversation id.")]
    project_id: UUID
    task_id: UUID | None
    title: str
    created_at: datetime
    updated_at: Annotated[datetime, msgspec.Meta(description="When the conversation last changed in chat.")]

    @classmethod
    def of(cls, session: ChatSession) -> ChatSessionResponse:
        return cls(
            id=session.id,
            project_id=session.project_id,
            task_id=session.task_id,
            title=session.title,
            created_at=session.created_at,
            updated_at=session.updated_at,
        )


def _page(rows: list[ChatSession], size: int) -> Page[ChatSessionResponse]:
    return page_from_rows(rows, size, lambda s: (s.updated_at, s.id)).map(ChatSessionResponse.of)


@get(
    "/api/v1/projects/{project_id:uuid}/chat-sessions",
    operation_id="list_project_chat_sessions",
    summary="Chat sessions about a project",
    tags=["chat sessions"],
    security=BEARER_SECURITY,
    responses=problems(400, 401, 404),
)
async def project_chat_sessions(
    project_id: Annotated[UUID, PathParameter(description="One of my projects, by its `id`.")],
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[ChatSessionResponse]:
    """My chat conversations linked to the project, most recently updated first, as chat
    announced them (`chat.conversation.*` events; a deleted one is gone)."""
    size = clamp_limit(limit)
    after = None if cursor is None else decode_cursor(cursor, _Position)
    rows = await use_cases.project_sessions(project_id, principal.user_id, uow, after=after, limit=size + 1)
    return _page(rows, size)


@get(
    "/api/v1/tasks/{task_id:uuid}/chat-sessions",
    operation_id="list_task_chat_sessions",
    summary="Chat sessions about a task",
    tags=["chat sessions"],
    security=BEARER_SECURITY,
    responses=problems(400, 401, 404),
)
async def task_chat_sessions(
    task_id: Annotated[UUID, PathParameter(description="One of my tasks, by its `id`.")],
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[ChatSessionResponse]:
    """My chat conversations linked to the task, most recently updated first."""
    size = clamp_limit(limit)
    after = None if cursor is None else decode_cursor(cursor, _Position)
    rows = await use_cases.task_sessions(task_id, principal.user_id, uow, after=after, limit=size + 1)
    return _page(rows, size)
