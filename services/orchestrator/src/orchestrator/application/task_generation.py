"""Tasks generated from a prompt version by an AI model, as Task Master's ``parse-prd`` does.

Three steps, so no transaction is open while the model runs: read (the project, the prompt,
the board) and close; ask the model for a plan, check it, ask once more if it is invalid;
then write every task in one transaction, or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal
from uuid import UUID

from orchestrator.application.ports import ModelCatalog, ResolvedModel, UnitOfWork
from orchestrator.application.ports.tasks import TaskPlanFormat
from orchestrator.application.projects import owned_project
from orchestrator.application.task_plan_schema import plan_schema
from orchestrator.application.tasks import MAX_TASKS
from orchestrator.domain.board import Card
from orchestrator.domain.plans import PlannedTask, plan_errors
from orchestrator.domain.tasks import Task, TaskDraft
from shared.kernel.ai import ChatMessage, ChatRequest, ModelError, Parameters, Usage
from shared.kernel.clock import Clock, SystemClock
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.ids import new_id

_CLOCK: Final = SystemClock()
GENERATED_STATUS: Final = "todo"
"""The column generated tasks land in, in the plan's order."""
_SYSTEM: Final = (
    "You are a senior engineer breaking a product requirements document into development tasks, "
    'as Task Master does. Answer with JSON only: {"tasks": [...]}. Each task has a number id, '
    "a short imperative title, a description, implementation details, a test strategy, a "
    "priority (low, medium, high, urgent) and dependencies: the ids of the tasks that must be "
    "done first. Order tasks so that dependencies come first; never depend on a task itself."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerateTasks:
    owner_id: UUID
    project_id: UUID
    prompt_id: UUID
    num_tasks: int
    """The most tasks to generate (1..50); the model may plan fewer."""
    mode: Literal["replace", "append"] = "replace"
    model_id: UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratedTasks:
    tasks: list[Task]
    model: str
    attempts: int
    usage: Usage


def _request_text(prompt: str, cards: list[Card], cmd: GenerateTasks) -> str:
    lines = [f"Requirements:\n{prompt}", ""]
    if cards:
        lines.append("Tasks already on the board (new tasks may depend on them by id):")
        lines += [f"{number}. {card.title} [{card.status}]" for number, card in enumerate(cards, start=1)]
        lines.append("")
    first = len(cards) + 1
    lines.append(
        f"Write at most {cmd.num_tasks} new tasks for what is not covered yet, numbered from {first}."
    )
    return "\n".join(lines)


async def generate_tasks(
    cmd: GenerateTasks,
    uow: UnitOfWork,
    *,
    models: ModelCatalog,
    plans: TaskPlanFormat,
    clock: Clock = _CLOCK,
) -> GeneratedTasks:
    """Plans tasks from the prompt version ``cmd.prompt_id`` of the project and puts them on the board.

    ``replace`` needs an empty board (Conflict otherwise); ``append`` keeps the board and lets
    new tasks depend on existing ones (a new feature). The plan is checked as Task Master
    checks one (``domain.plans.plan_errors``); an invalid answer is asked for once more with
    what was wrong, then the call fails with ModelError (a 502). The tasks are written in one
    transaction after the model answered, or not at all: a board changed meanwhile (a task
    the plan depends on deleted, tasks added under ``replace``) is a Conflict.
    Raises NotFound (project or prompt), Conflict (archived, board not empty, board full).
    """
    async with uow:
        project = await owned_project(uow, cmd.project_id, cmd.owner_id)
        project.ensure_writable()
        prompt = await uow.prompts.get(cmd.prompt_id)
        if prompt is None or prompt.project_id != project.id:
            raise NotFound(f"prompt {cmd.prompt_id} not found in project {project.id}")
        cards = list(await uow.tasks.board(project.id))
    _check_room(cmd, cards)

    resolved = await models.resolve(cmd.model_id)
    plan, attempts, usage = await _ask_for_plan(
        resolved, plans, _request_text(prompt.content, cards, cmd), cmd, cards
    )

    async with uow:
        project = await owned_project(uow, cmd.project_id, cmd.owner_id, for_update=True)
        project.ensure_writable()
        now_on_board = {card.id for card in await uow.tasks.board(project.id)}
        _check_unchanged(cmd, cards, plan, now_on_board)
        _check_room(cmd, [*now_on_board])
        ids = [new_id() for _ in plan]
        by_number = {number: card.id for number, card in enumerate(cards, start=1)}
        by_number |= {planned.id: task_id for planned, task_id in zip(plan, ids, strict=True)}
        keys = await uow.tasks.keys_at_end(project.id, GENERATED_STATUS, len(plan))
        now = clock.now()
        tasks = [
            Task.create(
                TaskDraft(
                    project_id=project.id,
                    owner_id=project.owner_id,
                    title=planned.title,
                    description=planned.description,
                    details=planned.details,
                    test_strategy=planned.test_strategy,
                    status=GENERATED_STATUS,
                    priority=planned.priority,
                    dependencies=tuple(dict.fromkeys(by_number[d] for d in planned.dependencies)),
                ),
                id=task_id,
                position=key,
                actor_id=cmd.owner_id,
                activity_id=new_id(),
                now=now,
            )
            for planned, task_id, key in zip(plan, ids, keys, strict=True)
        ]
        await uow.tasks.add_many(tasks)
        await uow.commit()
    return GeneratedTasks(tasks=tasks, model=resolved.name, attempts=attempts, usage=usage)


async def _ask_for_plan(
    resolved: ResolvedModel, plans: TaskPlanFormat, asked: str, cmd: GenerateTasks, cards: list[Card]
) -> tuple[list[PlannedTask], int, Usage]:
    """A valid plan and the attempts it took (1 or 2), with the tokens both cost.

    Raises:
        ModelError: the model failed, or its second plan is still invalid.
    """
    messages = [ChatMessage(role="system", content=_SYSTEM), ChatMessage(role="user", content=asked)]
    # bounded at num_tasks, and numbered for a model under a grammar (task_plan_schema)
    schema = plan_schema(
        plans.json_schema, existing=len(cards), most=cmd.num_tasks, numbered=resolved.provider == "local"
    )
    parameters = Parameters(json_schema=schema, temperature=0.2)
    prompt_tokens = completion_tokens = 0
    errors: list[str] = []
    for attempt in (1, 2):
        completion = await resolved.model.complete(
            ChatRequest(model=resolved.name, messages=messages, parameters=parameters)
        )
        prompt_tokens += completion.usage.prompt_tokens
        completion_tokens += completion.usage.completion_tokens
        try:
            plan = plans.read(completion.content)
            errors = plan_errors(plan, existing=len(cards), most=cmd.num_tasks)
        except ValueError as exc:
            errors = [f"the answer does not fit the schema: {exc}"]
        if not errors:
            return plan, attempt, Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        messages = [  # a new list: the request sent keeps the conversation as it was
            *messages,
            ChatMessage(role="assistant", content=completion.content),
            ChatMessage(
                role="user", content=f"That plan is invalid: {'; '.join(errors)}. Answer again, fixed."
            ),
        ]
    raise ModelError(f"the model's task plan stayed invalid after a retry: {'; '.join(errors)}")


def _check_room(cmd: GenerateTasks, on_board: list[Card] | list[UUID]) -> None:
    if cmd.mode == "replace" and on_board:
        raise Conflict("the board is not empty: generate with mode=append, or delete its tasks first")
    if len(on_board) + cmd.num_tasks > MAX_TASKS:
        raise Conflict(f"the board would hold more than {MAX_TASKS} tasks")


def _check_unchanged(cmd: GenerateTasks, cards: list[Card], plan: list[PlannedTask], now: set[UUID]) -> None:
    existing = {number: card for number, card in enumerate(cards, start=1)}
    needed = {existing[d].id for task in plan for d in task.dependencies if d in existing}
    if gone := needed - now:
        raise Conflict(
            "tasks the plan depends on were deleted while the model was planning: "
            + ", ".join(map(str, gone))
        )
