"""A task plan an AI model wrote from a prompt, and the checks Task Master runs on one.

Tasks in a plan are numbered: the board's existing tasks are ``1..k`` (in board order, as
the model was shown them) and the plan's new tasks continue from ``k + 1``, so a new task
may depend on an existing one (appending a feature) or on an earlier new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from orchestrator.domain.board import find_cycle
from orchestrator.domain.tasks import Priority


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedTask:
    id: int
    title: str
    description: str
    details: str
    test_strategy: str
    priority: Priority
    dependencies: tuple[int, ...]


def plan_errors(tasks: Sequence[PlannedTask], *, existing: int, most: int) -> list[str]:
    """What is wrong with a plan of new tasks for a board holding ``existing`` tasks (empty: valid).

    The rules: between 1 and ``most`` tasks; ids unique and numbered ``existing + 1`` onwards;
    each dependency names an existing task or another task of the plan, never the task
    itself; and the plan's dependencies form no cycle.
    """
    errors: list[str] = []
    if not 1 <= len(tasks) <= most:
        errors.append(f"the plan has {len(tasks)} tasks; between 1 and {most} were asked for")
    ids = [task.id for task in tasks]
    if len(set(ids)) != len(ids):
        errors.append("task ids are not unique")
    expected = set(range(existing + 1, existing + len(tasks) + 1))
    if set(ids) != expected:
        errors.append(f"task ids must be {existing + 1}..{existing + len(tasks)}")
    known = set(range(1, existing + 1)) | set(ids)
    for task in tasks:
        for dependency in task.dependencies:
            if dependency == task.id:
                errors.append(f"task {task.id} depends on itself")
            elif dependency not in known:
                errors.append(
                    f"task {task.id} depends on {dependency}, which is neither on the board nor in the plan"
                )
    if not errors:
        # Existing tasks never depend on new ones: a cycle can only run through the plan.
        as_ids = {_as_uuid(task.id): [_as_uuid(d) for d in task.dependencies] for task in tasks}
        for task in tasks:
            cycle = find_cycle(as_ids, _as_uuid(task.id), as_ids[_as_uuid(task.id)])
            if cycle is not None:
                errors.append("dependency cycle " + " -> ".join(str(node.int) for node in cycle))
                break
    return errors


def _as_uuid(number: int) -> UUID:
    return UUID(int=number)
