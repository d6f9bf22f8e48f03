"""Rules over a whole board: dependency cycles, and which task to work on next.

They read cards (a task without its long text), the shape the board query answers in,
so each rule costs the one query that reads the board.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from orchestrator.domain.tasks import COLUMNS, PRIORITY_RANK, Priority, TaskStatus

_COLUMN_INDEX = {status: index for index, status in enumerate(COLUMNS)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Card:
    """A task as the board shows it."""

    id: UUID
    title: str
    status: TaskStatus
    priority: Priority
    position: str
    dependencies: tuple[UUID, ...]
    version: int
    updated_at: datetime

    def board_order(self) -> tuple[int, str, str]:
        """Left to right by column, then top to bottom (ties on a key broken by id)."""
        return _COLUMN_INDEX[self.status], self.position, str(self.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Board:
    """A project's board as read: whether the project is archived (read-only), and its cards."""

    archived: bool
    cards: Sequence[Card]


def find_cycle(
    graph: Mapping[UUID, Iterable[UUID]], task_id: UUID, dependencies: Iterable[UUID]
) -> list[UUID] | None:
    """The cycle ``task_id`` would close by depending on ``dependencies``, else ``None``.

    ``graph`` maps each task to what it depends on now. A cycle exists exactly when one of the
    new dependencies already (transitively) depends on ``task_id``; the answer is the path
    ``[task_id, d, ..., task_id]``, so it can be shown as ``A -> B -> C -> A``.
    """
    for start in dependencies:
        if start == task_id:
            return [task_id, task_id]
        # iterative depth-first search keeping the path, so the cycle can be named
        path, stack, visited = [start], [iter(graph.get(start, ()))], {start}
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                path.pop()
            elif step == task_id:
                return [task_id, *path, task_id]
            elif step not in visited:
                visited.add(step)
                path.append(step)
                stack.append(iter(graph.get(step, ())))
    return None


def describe_cycle(cycle: Sequence[UUID], titles: Mapping[UUID, str]) -> str:
    """``"Design" (id) -> "Build" (id) -> "Design" (id)``: the cycle by titles and ids."""
    return " -> ".join(f'"{titles.get(task_id, "?")}" ({task_id})' for task_id in cycle)


def next_task(cards: Sequence[Card]) -> Card | None:
    """The task to work on next, as Task Master picks it.

    Ready = not done, and every dependency done. Among the ready ones: the highest
    priority, then the fewest dependencies, then the board's order (column, then key).
    """
    done = {card.id for card in cards if card.status == "done"}
    ready = [card for card in cards if card.status != "done" and all(d in done for d in card.dependencies)]
    if not ready:
        return None
    return min(ready, key=lambda c: (-PRIORITY_RANK[c.priority], len(c.dependencies), c.board_order()))


def blocked_ids(cards: Sequence[Card]) -> set[UUID]:
    """The tasks waiting for a dependency that is not done yet."""
    done = {card.id for card in cards if card.status == "done"}
    return {card.id for card in cards if any(d not in done for d in card.dependencies)}
