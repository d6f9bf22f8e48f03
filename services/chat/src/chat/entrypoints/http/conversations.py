"""``/conversations``: the caller's conversations (another user's is a 404 on every route)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from chat.application import conversations as use_cases
from chat.application.ports.conversation_lists import ConversationFilter
from chat.entrypoints.http.conversation_schemas import (
    ConversationCreate,
    ConversationResponse,
    ConversationUpdate,
)
from chat.entrypoints.http.dependencies import UnitOfWorkDep
from chat.entrypoints.http.openapi import problems
from chat.entrypoints.http.parameters import ConversationId, Cursor, Limit
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.http.problems import FieldError, Problem, problem_response
from shared.kernel.pagination import Page, clamp_limit, decode_cursor, page_from_rows

_Position = tuple[datetime, UUID]


def unusable_reference(
    request: Request[Any, Any, Any], exc: use_cases.UnusableReference
) -> Response[Problem]:
    """422 naming the field that refers to something the caller cannot use."""
    field = f"$.{exc.field}" if exc.where == "body" else f"$.query.{exc.field}"
    errors = [FieldError(field=field, message=exc.detail)]
    return problem_response(request, 422, exc.detail, title=exc.title, field_errors=errors)


def _kept(value: Any) -> Any:
    return use_cases.KEEP if value is msgspec.UNSET else value


class ConversationsController(Controller):
    path = "/api/v1/conversations"
    tags = ["conversations"]
    security = BEARER_SECURITY
    exception_handlers = {use_cases.UnusableReference: unusable_reference}

    @post(
        "/",
        operation_id="create_conversation",
        summary="Start a conversation",
        responses=problems(400, 401, 413, 422),
    )
    async def create_conversation(
        self, data: JSONBody[ConversationCreate], principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> ConversationResponse:
        """A new, empty conversation of mine, optionally titled and linked to one of my projects
        or tasks (a task alone links its project too). A project or task that is not mine, or a
        task outside the given project, is refused with 422 naming the field. Announced as
        `chat.conversation.created`."""
        command = use_cases.CreateConversation(
            owner_id=principal.user_id,
            title=data.title,
            model_id=data.model_id,
            project_id=data.project_id,
            task_id=data.task_id,
        )
        return ConversationResponse.of(await use_cases.create_conversation(command, uow))

    @get("/", operation_id="list_conversations", summary="My conversations", responses=problems(400, 401))
    async def list_conversations(
        self,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        archived: Annotated[
            bool, QueryParameter(description="`true`: only archived ones; `false` (default): the others.")
        ] = False,
        pinned: Annotated[
            bool | None, QueryParameter(description="Only pinned (`true`) or unpinned (`false`) ones.")
        ] = None,
        project_id: Annotated[
            UUID | None, QueryParameter(description="Only those linked to this project.")
        ] = None,
        task_id: Annotated[UUID | None, QueryParameter(description="Only those linked to this task.")] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ConversationResponse]:
        """My conversations, most recently active first (a new message moves one up; renaming
        or pinning does not): one page, with the cursor of the next (`null` on the last)."""
        size = clamp_limit(limit)
        after = None if cursor is None else decode_cursor(cursor, _Position)
        where = ConversationFilter(archived=archived, pinned=pinned, project_id=project_id, task_id=task_id)
        rows = await use_cases.list_conversations(
            principal.user_id, uow, where=where, after=after, limit=size + 1
        )
        page = page_from_rows(rows, size, lambda c: (c.last_activity_at, c.id))
        return page.map(ConversationResponse.of)

    @get(
        "/{conversation_id:uuid}",
        operation_id="get_conversation",
        summary="One of my conversations",
        responses=problems(400, 401, 404),
    )
    async def get_conversation(
        self, conversation_id: ConversationId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> ConversationResponse:
        """The conversation's settings, links, message count and selected branch (its messages:
        `GET /conversations/{id}/messages`)."""
        return ConversationResponse.of(
            await use_cases.get_conversation(principal.user_id, conversation_id, uow)
        )

    @patch(
        "/{conversation_id:uuid}",
        operation_id="update_conversation",
        summary="Rename, pin, archive or relink a conversation",
        responses=problems(400, 401, 404, 413, 422),
    )
    async def update_conversation(
        self,
        conversation_id: ConversationId,
        data: JSONBody[ConversationUpdate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
    ) -> ConversationResponse:
        """Changes what the body names; absent fields stay. `project_id: null` unlinks the
        project (and its task), `task_id: null` the task; a new link is checked as on creation
        (422 naming the field). Announced as `chat.conversation.updated` when anything changed."""
        command = use_cases.UpdateConversation(
            owner_id=principal.user_id,
            conversation_id=conversation_id,
            title=_kept(data.title),
            model_id=_kept(data.model_id),
            pinned=_kept(data.pinned),
            archived=_kept(data.archived),
            project_id=_kept(data.project_id),
            task_id=_kept(data.task_id),
        )
        return ConversationResponse.of(await use_cases.update_conversation(command, uow))

    @delete(
        "/{conversation_id:uuid}",
        operation_id="delete_conversation",
        summary="Delete a conversation and its messages",
        responses=problems(400, 401, 404),
        status_code=204,
    )
    async def delete_conversation(
        self, conversation_id: ConversationId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> None:
        """Deletes the conversation with every message of every branch. Announced as
        `chat.conversation.deleted`."""
        await use_cases.delete_conversation(principal.user_id, conversation_id, uow)
