"""The board of a project: ``/projects/{id}/tasks`` (read, add, generate) and ``/projects/{id}/next-task``.

The project is the caller's (another user's is a 404 on every route); a task's own routes are
in ``tasks``.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter

from orchestrator.application import task_generation, tasks
from orchestrator.application.tasks import Placement
from orchestrator.domain.board import blocked_ids
from orchestrator.domain.tasks import COLUMNS
from orchestrator.entrypoints.http.dependencies import BoardReaderDep, ModelsDep, TaskPlansDep, UnitOfWorkDep
from orchestrator.entrypoints.http.openapi import problems
from orchestrator.entrypoints.http.parameters import ProjectId
from orchestrator.entrypoints.http.task_schemas import (
    BoardResponse,
    CardResponse,
    ColumnResponse,
    GeneratedTasksResponse,
    PriorityLevel,
    Status,
    TaskCreate,
    TaskGenerate,
    TaskResponse,
)
from orchestrator.entrypoints.http.tasks import ETAG, tagged
from shared.auth import BEARER_SECURITY, CurrentPrincipal


class BoardController(Controller):
    path = "/api/v1/projects/{project_id:uuid}"
    tags = ["tasks"]
    security = BEARER_SECURITY

    @get("/tasks", operation_id="get_board", summary="The project's board", responses=problems(400, 401, 404))
    async def get_board(
        self,
        project_id: ProjectId,
        principal: CurrentPrincipal,
        board_reader: BoardReaderDep,
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
        found = await tasks.read_board(principal.user_id, project_id, board_reader)
        cards = found.cards
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
            archived=found.archived,
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
        return tagged(await tasks.create_task(command, uow), 201)

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
        self,
        project_id: ProjectId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        board_reader: BoardReaderDep,
    ) -> Response[TaskResponse | None]:
        """The ready task (not done, every dependency done) of highest priority; among equals the
        one with the fewest dependencies, then the first in board order (as Task Master picks).
        204 when no task is ready; 404 only for a project that is not mine."""
        card = await tasks.next_task(principal.user_id, project_id, board_reader)
        if card is None:
            return Response(None, status_code=204)
        return tagged(await tasks.get_task(principal.user_id, card.id, uow))  # type: ignore[return-value]
