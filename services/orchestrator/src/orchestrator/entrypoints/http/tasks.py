"""A task of the board: ``/tasks/{id}`` (read, change, move, dependencies, history, delete).

Every task is the caller's through its project (another user's is a 404 on every route).
Reads answer an ``ETag``; writes take ``If-Match`` and refuse a stale one with 412 and the
task as it is now (``current``), so a client can merge and retry.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from uuid import UUID

import msgspec
import structlog
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter

from orchestrator.application import task_dependencies, tasks
from orchestrator.application.tasks import Placement, StaleTask
from orchestrator.domain.tasks import Task
from orchestrator.entrypoints.http.dependencies import UnitOfWorkDep
from orchestrator.entrypoints.http.openapi import problems
from orchestrator.entrypoints.http.task_schemas import (
    ActivityResponse,
    StaleTaskProblem,
    TaskDependencies,
    TaskMove,
    TaskResponse,
    TaskUpdate,
)
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.http.preconditions import IfMatch, etag, expected_version
from shared.http.problems import PROBLEM_JSON
from shared.kernel.pagination import MAX_LIMIT, Page, clamp_limit, decode_cursor, encode_cursor

TaskId = Annotated[UUID, PathParameter(description="A task of one of my projects, by its `id`.")]
ETAG: Final = [
    ResponseHeader(
        name="ETag", description='The task\'s version as an entity tag (`"3"`).', documentation_only=True
    )
]
_STALE: Final = {
    412: ResponseSpec(
        data_container=StaleTaskProblem,
        description="The task is no longer at the `If-Match` version; `current` is the task as it is now.",
        media_type=PROBLEM_JSON,
        generate_examples=False,
    )
}


def stale_task(request: Request[Any, Any, Any], exc: StaleTask) -> Response[StaleTaskProblem]:
    """The 412 with the current state, so the loser of a race needs no second read."""
    current = exc.task
    body = StaleTaskProblem(
        title=exc.title,
        status=412,
        detail=exc.detail,
        instance=request.url.path,
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
        current=TaskResponse.of(current),
    )
    return Response(body, status_code=412, media_type=PROBLEM_JSON, headers={"ETag": etag(current.version)})


def tagged(task: Task, status_code: int = 200) -> Response[TaskResponse]:
    return Response(TaskResponse.of(task), status_code=status_code, headers={"ETag": etag(task.version)})


class TasksController(Controller):
    path = "/api/v1/tasks/{task_id:uuid}"
    tags = ["tasks"]
    security = BEARER_SECURITY
    exception_handlers = {StaleTask: stale_task}

    @get(
        "/",
        operation_id="get_task",
        summary="A task",
        responses=problems(400, 401, 404),
        response_headers=ETAG,
    )
    async def get_task(
        self, task_id: TaskId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> Response[TaskResponse]:
        """The task with all its fields; the `ETag` is its version, for `If-Match` on a change."""
        return tagged(await tasks.get_task(principal.user_id, task_id, uow))

    @patch(
        "/",
        operation_id="update_task",
        summary="Change a task",
        responses={**problems(400, 401, 404, 409, 413), **_STALE},
        response_headers=ETAG,
    )
    async def update_task(
        self,
        task_id: TaskId,
        data: JSONBody[TaskUpdate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        if_match: IfMatch = None,
    ) -> Response[TaskResponse]:
        """Changes the given fields (absent ones stay); a new `status` puts the task at the end of
        that column. Each changed field is a line of the task's activity. 412 with the current
        task if `If-Match` is stale; 409 if the project is archived. Announced as
        `orchestrator.task.updated` (and `.moved` for a new column)."""
        changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not None}
        command = tasks.EditTask(
            owner_id=principal.user_id,
            task_id=task_id,
            changes=changes,
            expected_version=expected_version(if_match),
        )
        return tagged(await tasks.edit_task(command, uow))

    @delete(
        "/",
        operation_id="delete_task",
        summary="Delete a task",
        responses={**problems(400, 401, 404, 409), **_STALE},
        status_code=204,
    )
    async def delete_task(
        self, task_id: TaskId, principal: CurrentPrincipal, uow: UnitOfWorkDep, if_match: IfMatch = None
    ) -> None:
        """Deletes the task; tasks that depended on it no longer do. 412 if `If-Match` is stale,
        409 if the project is archived. Announced as `orchestrator.task.deleted`."""
        await tasks.delete_task(principal.user_id, task_id, expected_version(if_match), uow)

    @post(
        "/move",
        operation_id="move_task",
        summary="Move a task on the board",
        responses={**problems(400, 401, 404, 409, 413), **_STALE},
        response_headers=ETAG,
        status_code=200,
    )
    async def move_task(
        self,
        task_id: TaskId,
        data: JSONBody[TaskMove],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        if_match: IfMatch = None,
    ) -> Response[TaskResponse]:
        """Puts the task in `status`, right after `after_id`, right before `before_id`, between
        both, or at the column's end; only this task's ordering key changes. Of two clients
        moving the task from the same `If-Match`, one wins and the other gets 412 with the task
        as it is now. Announced as `orchestrator.task.moved`."""
        command = tasks.MoveTask(
            owner_id=principal.user_id,
            task_id=task_id,
            status=data.status,
            placement=Placement(after_id=data.after_id, before_id=data.before_id),
            expected_version=expected_version(if_match),
        )
        return tagged(await tasks.move_task(command, uow))

    @put(
        "/dependencies",
        operation_id="set_task_dependencies",
        summary="Set what a task depends on",
        responses={**problems(400, 401, 404, 409, 413), **_STALE},
        response_headers=ETAG,
    )
    async def set_dependencies(
        self,
        task_id: TaskId,
        data: JSONBody[TaskDependencies],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        if_match: IfMatch = None,
    ) -> Response[TaskResponse]:
        """Replaces the task's dependencies with the given set (empty: none). Each must be a task
        of the same board (400 otherwise); a set that would close a cycle, the task itself
        included, is a 409 naming it by titles and ids (`"A" (id) -> "B" (id) -> "A" (id)`).
        412 with the current task if `If-Match` is stale; 409 if the project is archived."""
        command = task_dependencies.SetDependencies(
            owner_id=principal.user_id,
            task_id=task_id,
            dependencies=tuple(data.dependencies),
            expected_version=expected_version(if_match),
        )
        return tagged(await task_dependencies.set_dependencies(command, uow))

    @get(
        "/activity",
        operation_id="get_task_activity",
        summary="A task's history",
        responses=problems(400, 401, 404),
    )
    async def get_activity(
        self,
        task_id: TaskId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        cursor: Annotated[
            str | None, QueryParameter(max_length=512, description="From the previous page's `next_cursor`.")
        ] = None,
        limit: Annotated[
            int | None, QueryParameter(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")
        ] = None,
    ) -> Page[ActivityResponse]:
        """Who changed what on the task, newest first: its creation, each field changed (old and
        new value), each move (column or position). One page, with the cursor of the next."""
        size = clamp_limit(limit)
        before_id = None if cursor is None else decode_cursor(cursor, UUID)
        entries = await tasks.task_activity(
            principal.user_id, task_id, uow, before_id=before_id, limit=size + 1
        )
        items = [ActivityResponse.of(entry) for entry in entries[:size]]
        return Page(items=items, next_cursor=encode_cursor(items[-1].id) if len(entries) > size else None)
