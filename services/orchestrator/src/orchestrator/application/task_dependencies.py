"""A task's dependencies: the tasks of the same board that must be done before it is ready."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from uuid import UUID

from orchestrator.application.ports import UnitOfWork
from orchestrator.application.projects import owned_project
from orchestrator.application.tasks import check_on_board, writable_task
from orchestrator.domain.board import describe_cycle, find_cycle
from orchestrator.domain.tasks import Task
from shared.kernel.clock import Clock, SystemClock
from shared.kernel.errors import Conflict
from shared.kernel.ids import new_id

_CLOCK: Final = SystemClock()


@dataclass(frozen=True, slots=True, kw_only=True)
class SetDependencies:
    owner_id: UUID
    task_id: UUID
    dependencies: tuple[UUID, ...]
    """The whole new set (an empty one removes them all)."""
    expected_version: int | None = None


async def set_dependencies(cmd: SetDependencies, uow: UnitOfWork, *, clock: Clock = _CLOCK) -> Task:
    """Replaces the task's dependencies.

    Each must be a task of the same board (a task of another project, or of nobody visible,
    is InvalidInput, without saying whose it is); a set that would close a cycle is a Conflict
    naming it (``"A" (id) -> "B" (id) -> "A" (id)``; depending on itself is ``"A" -> "A"``).
    The project's row lock serialises dependency changes on one board, so two concurrent
    changes cannot close a cycle between them. Raises NotFound, Conflict (archived; cycle), StaleTask.
    """
    dependencies = tuple(dict.fromkeys(cmd.dependencies))
    async with uow:
        task = await writable_task(uow, cmd.task_id, cmd.owner_id, cmd.expected_version)
        await owned_project(uow, task.project_id, cmd.owner_id, for_update=True)
        cards = await uow.tasks.board(task.project_id)
        check_on_board(dependencies, {card.id for card in cards})
        graph = {card.id: card.dependencies for card in cards}
        cycle = find_cycle(graph, task.id, dependencies)
        if cycle is not None:
            titles = {card.id: card.title for card in cards}
            raise Conflict(f"these dependencies would make a cycle: {describe_cycle(cycle, titles)}")
        if task.set_dependencies(dependencies, actor_id=cmd.owner_id, activity_id=new_id(), now=clock.now()):
            await uow.tasks.update(task)
            await uow.commit()
    return task
