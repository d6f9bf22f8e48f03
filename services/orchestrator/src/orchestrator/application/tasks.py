"""The board's tasks: read the board, create, read, edit, move and delete a task, its history.

Every task is reached through its project's owner (another owner's task is "not found");
writes to an archived project's tasks are a Conflict. Writes based on a stale version
(``If-Match``) are refused with :class:`StaleTask`, which carries the task as it is now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, cast
from uuid import UUID

from orchestrator.application.ports import UnitOfWork
from orchestrator.application.ports.tasks import BoardReader
from orchestrator.application.projects import owned_project
from orchestrator.domain import board
from orchestrator.domain.board import Board, Card
from orchestrator.domain.tasks import EDITABLE, Activity, Priority, Task, TaskDraft, TaskStatus
from shared.kernel.clock import Clock, SystemClock
from shared.kernel.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from shared.kernel.ids import new_id

_CLOCK: Final = SystemClock()
MAX_TASKS: Final = 1000
"""Tasks one project's board holds at most (the board is read whole)."""


class StaleTask(PreconditionFailed):
    """The write named a version the task has moved on from; ``task`` is how it is now."""

    def __init__(self, task: Task, expected: int) -> None:
        super().__init__(f"task {task.id} is at version {task.version}, not {expected}: reload it and retry")
        self.task = task


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """Where a task goes in its column: right after ``after_id``, right before ``before_id``,
    between both, or at the column's end when neither is given."""

    after_id: UUID | None = None
    before_id: UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateTask:
    owner_id: UUID
    project_id: UUID
    title: str
    description: str = ""
    details: str = ""
    test_strategy: str = ""
    status: TaskStatus = "backlog"
    priority: Priority = "medium"
    dependencies: tuple[UUID, ...] = ()
    placement: Placement = field(default_factory=Placement)


@dataclass(frozen=True, slots=True, kw_only=True)
class EditTask:
    owner_id: UUID
    task_id: UUID
    changes: dict[str, object]
    """``EDITABLE`` field → new value; ``status`` too, which moves the task to that column's end."""
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveTask:
    owner_id: UUID
    task_id: UUID
    status: TaskStatus
    placement: Placement = field(default_factory=Placement)
    expected_version: int | None = None


async def read_board(owner_id: UUID, project_id: UUID, reader: BoardReader) -> Board:
    """The owner's project's board as last committed: every task as a card, in board order.

    Raises:
        NotFound: the project is not the owner's.
    """
    found = await reader.board(project_id, owner_id)
    if found is None:
        raise NotFound(f"project {project_id} not found")
    return found


async def next_task(owner_id: UUID, project_id: UUID, reader: BoardReader) -> Card | None:
    """The ready task to work on next (``domain.board.next_task``), ``None`` when none is ready."""
    return board.next_task((await read_board(owner_id, project_id, reader)).cards)


async def get_task(owner_id: UUID, task_id: UUID, uow: UnitOfWork) -> Task:
    """Raises NotFound for a task that is not the owner's."""
    async with uow:
        return await _owned_task(uow, task_id, owner_id)


async def create_task(cmd: CreateTask, uow: UnitOfWork, *, clock: Clock = _CLOCK) -> Task:
    """A new task in ``cmd.status`` placed as ``cmd.placement`` says.

    Its dependencies must be tasks of the same board (a new task cannot close a cycle:
    nothing depends on it yet). Raises NotFound, Conflict (archived; board full),
    InvalidInput (a neighbour or a dependency not on this board).
    """
    async with uow:
        # the project's row lock serialises creations on a board (two tasks added at a column's
        # end at once would otherwise get the same key) and orders them against dependency changes
        project = await owned_project(uow, cmd.project_id, cmd.owner_id, for_update=True)
        project.ensure_writable()
        if await uow.tasks.count(project.id) >= MAX_TASKS:
            raise Conflict(f"project {project.id} holds {MAX_TASKS} tasks, the most a board holds")
        if cmd.dependencies:
            on_board = {card.id for card in await uow.tasks.board(project.id)}
            check_on_board(cmd.dependencies, on_board)
        position = await _key(uow, project.id, cmd.status, cmd.placement, None)
        draft = TaskDraft(
            project_id=project.id,
            owner_id=project.owner_id,
            title=cmd.title,
            description=cmd.description,
            details=cmd.details,
            test_strategy=cmd.test_strategy,
            status=cmd.status,
            priority=cmd.priority,
            dependencies=tuple(dict.fromkeys(cmd.dependencies)),
        )
        task = Task.create(
            draft,
            id=new_id(),
            position=position,
            actor_id=cmd.owner_id,
            activity_id=new_id(),
            now=clock.now(),
        )
        await uow.tasks.add(task)
        await uow.commit()
    return task


async def edit_task(cmd: EditTask, uow: UnitOfWork, *, clock: Clock = _CLOCK) -> Task:
    """Changes the task's fields (and column, to its end); records one activity entry per
    changed field. Raises NotFound, Conflict (archived), StaleTask."""
    changes = dict(cmd.changes)
    status = cast("TaskStatus | None", changes.pop("status", None))
    if unknown := set(changes) - set(EDITABLE):
        raise InvalidInput(f"not editable here: {', '.join(sorted(unknown))}")
    async with uow:
        task = await writable_task(uow, cmd.task_id, cmd.owner_id, cmd.expected_version)
        now = clock.now()
        changed = task.edit(changes, actor_id=cmd.owner_id, ids=[new_id() for _ in changes], now=now)
        if status is not None and status != task.status:
            (position,) = await uow.tasks.keys_at_end(task.project_id, status, 1)
            task.move(status, position, actor_id=cmd.owner_id, activity_id=new_id(), now=now)
            changed = True
        if changed:
            await uow.tasks.update(task)
            await uow.commit()
    return task


async def move_task(cmd: MoveTask, uow: UnitOfWork, *, clock: Clock = _CLOCK) -> Task:
    """Puts the task in ``cmd.status`` at ``cmd.placement``; only its own key changes.

    Of two clients moving the same task from the same version, the first wins and the
    second gets StaleTask (the row lock orders them). Raises NotFound, Conflict
    (archived), InvalidInput (a neighbour not in that column, or the task itself).
    """
    if cmd.task_id in (cmd.placement.after_id, cmd.placement.before_id):
        raise InvalidInput("a task cannot be placed next to itself")
    async with uow:
        task = await writable_task(uow, cmd.task_id, cmd.owner_id, cmd.expected_version)
        position = await _key(uow, task.project_id, cmd.status, cmd.placement, task.id)
        task.move(cmd.status, position, actor_id=cmd.owner_id, activity_id=new_id(), now=clock.now())
        await uow.tasks.update(task)
        await uow.commit()
    return task


async def delete_task(
    owner_id: UUID, task_id: UUID, expected_version: int | None, uow: UnitOfWork, *, clock: Clock = _CLOCK
) -> None:
    """Deletes the task; the tasks that depended on it no longer do (each a change of its own:
    a new version, an activity line, an event). Raises NotFound, Conflict, StaleTask."""
    async with uow:
        task = await writable_task(uow, task_id, owner_id, expected_version)
        # the project lock orders this against dependency changes (which also take it)
        await owned_project(uow, task.project_id, owner_id, for_update=True)
        now = clock.now()
        dependents = await uow.tasks.dependents(task)
        for dependent in dependents:
            remaining = tuple(d for d in dependent.dependencies if d != task.id)
            dependent.set_dependencies(remaining, actor_id=owner_id, activity_id=new_id(), now=now)
        await uow.tasks.update_many(dependents)
        task.delete(now)
        await uow.tasks.delete(task)
        await uow.commit()


async def task_activity(
    owner_id: UUID, task_id: UUID, uow: UnitOfWork, *, before_id: UUID | None, limit: int
) -> Sequence[Activity]:
    """The task's history, newest first: who changed which field, from what to what, when."""
    async with uow:
        await _owned_task(uow, task_id, owner_id)
        return await uow.tasks.activity(task_id, before_id=before_id, limit=limit)


async def _owned_task(uow: UnitOfWork, task_id: UUID, owner_id: UUID, *, for_update: bool = False) -> Task:
    task = await uow.tasks.get(task_id, owner_id, for_update=for_update)
    if task is None:
        raise NotFound(f"task {task_id} not found")
    return task


async def writable_task(uow: UnitOfWork, task_id: UUID, owner_id: UUID, expected: int | None) -> Task:
    task = await _owned_task(uow, task_id, owner_id, for_update=True)
    task.ensure_writable()
    if expected is not None and expected != task.version:
        raise StaleTask(task, expected)
    return task


async def _key(
    uow: UnitOfWork, project_id: UUID, status: TaskStatus, placement: Placement, moving: UUID | None
) -> str:
    key = await uow.tasks.key_between(
        project_id, status, after=placement.after_id, before=placement.before_id, moving=moving
    )
    if key is None:
        raise InvalidInput(
            f"after_id and before_id must be tasks of the {status} column of this board, in that order"
        )
    return key


def check_on_board(dependencies: Sequence[UUID], on_board: set[UUID]) -> None:
    if missing := [str(d) for d in dependencies if d not in on_board]:
        raise InvalidInput(f"dependencies must be tasks of this board: {', '.join(missing)} is not")
