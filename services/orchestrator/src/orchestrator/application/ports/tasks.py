"""Where the board's tasks, their ordering keys and their activity are kept; how a plan is read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from orchestrator.domain.board import Board, Card
from orchestrator.domain.plans import PlannedTask
from orchestrator.domain.tasks import Activity, Task, TaskStatus


class TaskRepository(Protocol):
    """Tasks, read through their project's owner: another owner's task does not exist here.

    Ordering keys are strings that sort (byte order) in board order; the repository makes
    them, so a move or an insert changes the key of the one task placed and no other.

    Transactional: changes count once the unit of work commits. Each task's pending
    ``activity`` entries are written with it, in the same transaction.
    """

    async def get(self, task_id: UUID, owner_id: UUID, *, for_update: bool = False) -> Task | None:
        """The task if ``owner_id`` owns its project; ``for_update`` locks its row until commit."""
        ...

    async def board(self, project_id: UUID) -> Sequence[Card]:
        """Every task of the project as a card, in board order (column, key, id): one query."""
        ...

    async def count(self, project_id: UUID) -> int: ...

    async def key_between(
        self,
        project_id: UUID,
        status: TaskStatus,
        *,
        after: UUID | None = None,
        before: UUID | None = None,
        moving: UUID | None = None,
    ) -> str | None:
        """A fresh key in column ``status``: right after ``after``, right before ``before``,
        between both, or at the column's end when neither is given. ``moving`` (the task being
        placed) is not counted as a neighbour. ``None`` when a named neighbour is not in that
        column of that project, or ``after`` does not come before ``before``.
        """
        ...

    async def keys_at_end(self, project_id: UUID, status: TaskStatus, count: int) -> list[str]:
        """``count`` ascending keys after the last task of the column."""
        ...

    async def add(self, task: Task) -> None: ...

    async def add_many(self, tasks: Sequence[Task]) -> None:
        """Adds the tasks in one round trip (and their activity in another)."""
        ...

    async def dependents(self, task: Task) -> Sequence[Task]:
        """The tasks of ``task``'s board that depend on it, locked until commit: one query."""
        ...

    async def update(self, task: Task) -> None: ...

    async def update_many(self, tasks: Sequence[Task]) -> None:
        """Saves the tasks in one round trip (and their activity in another)."""
        ...

    async def delete(self, task: Task) -> None:
        """Deletes the task (and, by cascade, its activity). Its dependents are the caller's."""
        ...

    async def activity(self, task_id: UUID, *, before_id: UUID | None, limit: int) -> Sequence[Activity]:
        """Up to ``limit`` entries of the task's history, newest first, older than ``before_id``."""
        ...


class TaskPlanFormat(Protocol):
    """How a task plan is asked of an AI model (a JSON schema) and read from its answer.

    Not transactional; pure (no I/O).
    """

    @property
    def json_schema(self) -> str:
        """The JSON Schema (text) of a plan, titled ``task_plan``: the structured output asked for."""
        ...

    def read(self, answer: str) -> list[PlannedTask]:
        """The plan in ``answer``, checked against the schema (types, lengths, no unknown field).

        Raises:
            ValueError: what does not fit, with its path (said back to the model on the retry).
        """
        ...


class BoardReader(Protocol):
    """The board as last committed, read in one statement outside any transaction: the hot read
    path pays no BEGIN/ROLLBACK round trips and no unit of work.

    Not transactional.
    """

    async def board(self, project_id: UUID, owner_id: UUID) -> Board | None:
        """The project's status and every task of it as a card, in board order (column, key,
        id); ``None`` when the project is not ``owner_id``'s (or does not exist)."""
        ...
