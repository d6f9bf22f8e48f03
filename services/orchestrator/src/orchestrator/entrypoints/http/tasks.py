"""The board: ``/projects/{id}/tasks``, ``/projects/{id}/next-task`` and ``/tasks/{id}``.

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

from orchestrator.application import task_dependencies, task_generation, tasks
from orchestrator.application.tasks import Placement, StaleTask
from orchestrator.domain.board import blocked_ids
from orchestrator.domain.tasks import COLUMNS, Task
from orchestrator.entrypoints.http.dependencies import ModelsDep, TaskPlansDep, UnitOfWorkDep
from orchestrator.entrypoints.http.openapi import problems
from orchestrator.entrypoints.http.task_schemas import (
    ActivityResponse,
    BoardResponse,
    CardResponse,
    ColumnResponse,
    GeneratedTasksResponse,
    PriorityLevel,
    StaleTaskProblem,
    Status,
    TaskCreate,
    TaskDependencies,
    TaskGenerate,
    TaskMove,
    TaskResponse,
    TaskUpdate,
)
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.http.preconditions import IfMatch, etag, expected_version
from shared.http.problems import PROBLEM_JSON
from shared.kernel.pagination import MAX_LIMIT, Page, clamp_limit, decode_cursor, encode_cursor

ProjectId = Annotated[UUID, PathParameter(description="One of my projects, by its `id`.")]
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


def _tagged(task: Task, status_code: int = 200) -> Response[TaskResponse]:
    return Response(TaskResponse.of(task), status_code=status_code, headers={"ETag": etag(task.version)})


class BoardController(Controller):
    path = "/api/v1/projects/{project_id:uuid}"
    tags = ["tasks"]
    security = BEARER_SECURITY

    @get("/tasks", operation_id="get_board", summary="The project's board", responses=problems(400, 401, 404))
    async def get_board(
        self,
        project_id: ProjectId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        status: Annotated[
            list[Status] | None, QueryParameter(description="Only these columns (repeatable).")
        ] = None,
        priority: Annotated[
            list[PriorityLevel] | None,
            QueryParameter(description="Only tasks of these priorities (repeatable)."),
        ] = None,
        q: Annotated[
            str | None,
            QueryParameter(max_length=200, description="Only tasks whose title contains this (any case)."),
        ] = None,
        blocked: Annotated[
            bool | None,
            QueryParameter(
                description="`true`: only tasks waiting on a dependency; `false`: only the others."
            ),
        ] = None,
    ) -> BoardResponse:
        """Every task of the project grouped by column (backlog, todo, in_progress, review, done),
        each column top to bottom by its ordering key. Cards carry no long text (read a task for
        it); `blocked` says a dependency is not done yet. Filters narrow the cards, every column
        is listed."""
        _, cards = await tasks.read_board(principal.user_id, project_id, uow)
        waiting = blocked_ids(cards)
        needle = q.casefold() if q else None
        columns: dict[str, list[CardResponse]] = {column: [] for column in COLUMNS}
        for card in cards:
            if (
                (status is None or card.status in status)
                and (priority is None or card.priority in priority)
                and (needle is None or needle in card.title.casefold())
                and (blocked is None or (card.id in waiting) == blocked)
            ):
                columns[card.status].append(CardResponse.of(card, card.id in waiting))
        return BoardResponse(
            project_id=project_id,
            columns=[ColumnResponse(status=column, tasks=cards_) for column, cards_ in columns.items()],  # type: ignore[arg-type]
        )

    @post(
        "/tasks",
        operation_id="create_task",
        summary="Add a task to the board",
        responses=problems(400, 401, 404, 409, 413),
        response_headers=ETAG,
    )
    async def create_task(
        self,
        project_id: ProjectId,
        data: JSONBody[TaskCreate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
    ) -> Response[TaskResponse]:
        """A new task in `status` (backlog by default): at the end of that column, or right
        after `after_id` / before `before_id` (tasks of that column). Its dependencies must be
        tasks of this board. 409 when the project is archived or its board is full (1000
        tasks). Announced as `orchestrator.task.created`."""
        command = tasks.CreateTask(
            owner_id=principal.user_id,
            project_id=project_id,
            title=data.title,
            description=data.description,
            details=data.details,
            test_strategy=data.test_strategy,
            status=data.status,
            priority=data.priority,
            dependencies=tuple(data.dependencies),
            placement=Placement(after_id=data.after_id, before_id=data.before_id),
        )
        return _tagged(await tasks.create_task(command, uow), 201)

    @post(
        "/tasks/generate",
        operation_id="generate_tasks",
        summary="Generate tasks from a prompt version (AI)",
        responses=problems(400, 401, 404, 409, 413, 502, 503, 504),
    )
    async def generate_tasks(
        self,
        project_id: ProjectId,
        data: JSONBody[TaskGenerate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        models: ModelsDep,
        task_plans: TaskPlansDep,
    ) -> GeneratedTasksResponse:
        """An AI model breaks the prompt version into at most `num_tasks` tasks with dependencies
        (as Task Master's parse-prd does); they land in the todo column in the plan's order. The
        plan is checked (ids unique, dependencies on tasks of the plan or of the board, none on
        itself, no cycle); an invalid plan is asked for once more, then the answer is a 502 and
        nothing is written. All tasks are written at once, or none. `replace` needs an empty
        board (409 otherwise); `append` keeps it."""
        command = task_generation.GenerateTasks(
            owner_id=principal.user_id,
            project_id=project_id,
            prompt_id=data.prompt_id,
            num_tasks=data.num_tasks,
            mode=data.mode,
            model_id=data.model_id,
        )
        result = await task_generation.generate_tasks(command, uow, models=models, plans=task_plans)
        return GeneratedTasksResponse(
            tasks=[TaskResponse.of(task) for task in result.tasks],
            model=result.model,
            attempts=result.attempts,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
        )

    @get(
        "/next-task",
        operation_id="get_next_task",
        summary="The task to work on next",
        responses={
            **problems(400, 401, 404),
            204: ResponseSpec(data_container=None, description="No task is ready: all done, or all blocked."),
        },
        response_headers=ETAG,
    )
    async def get_next_task(
        self, project_id: ProjectId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> Response[TaskResponse | None]:
        """The ready task (not done, every dependency done) of highest priority; among equals the
        one with the fewest dependencies, then the first in board order (as Task Master picks).
        204 when no task is ready; 404 only for a project that is not mine."""
        card = await tasks.next_task(principal.user_id, project_id, uow)
        if card is None:
            return Response(None, status_code=204)
        return _tagged(await tasks.get_task(principal.user_id, card.id, uow))  # type: ignore[return-value]


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
        return _tagged(await tasks.get_task(principal.user_id, task_id, uow))

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
        return _tagged(await tasks.edit_task(command, uow))

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
        return _tagged(await tasks.move_task(command, uow))

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
        """Replaces the task's dependencies with the given set (empty: none). Each must be another
        task of the same board (400 otherwise); a set that would close a cycle is a 409 naming it
        by titles and ids (`"A" (id) -> "B" (id) -> "A" (id)`)."""
        command = task_dependencies.SetDependencies(
            owner_id=principal.user_id,
            task_id=task_id,
            dependencies=tuple(data.dependencies),
            expected_version=expected_version(if_match),
        )
        return _tagged(await task_dependencies.set_dependencies(command, uow))

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
