"""A task on a project's Kanban board, with Task Master's fields and Plane's activity trail.

A task sits in one column at a string ordering key (``position``): moving it changes its own
key only, never its neighbours'. Every change bumps ``version`` (the ETag clients send back
in ``If-Match``) and leaves one activity entry per field: who changed what, old -> new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, TypedDict
from uuid import UUID

from orchestrator.domain.events import DomainEvent
from shared.kernel.aggregate import Aggregate
from shared.kernel.errors import Conflict

TaskStatus = Literal["backlog", "todo", "in_progress", "review", "done"]
COLUMNS: Final[tuple[TaskStatus, ...]] = ("backlog", "todo", "in_progress", "review", "done")
"""The board's columns, left to right."""

Priority = Literal["low", "medium", "high", "urgent"]
PRIORITY_RANK: Final[dict[str, int]] = {"low": 0, "medium": 1, "high": 2, "urgent": 3}

EDITABLE: Final = ("title", "description", "details", "test_strategy", "priority")
"""The fields an edit may change (the column and dependencies have their own operations)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskEvent(DomainEvent):
    """Small on purpose: ids and board coordinates, never the task's text."""

    task_id: UUID
    project_id: UUID
    owner_id: UUID
    status: TaskStatus
    position: str
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskCreated(TaskEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskUpdated(TaskEvent):
    fields: tuple[str, ...]
    """The names of the fields that changed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskMoved(TaskEvent):
    from_status: TaskStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskDeleted(TaskEvent):
    pass


class _Coordinates(TypedDict):
    task_id: UUID
    project_id: UUID
    owner_id: UUID
    status: TaskStatus
    position: str
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskDraft:
    """What a new task is made of, before it gets its id and place on the board."""

    project_id: UUID
    owner_id: UUID
    title: str
    description: str = ""
    details: str = ""
    test_strategy: str = ""
    status: TaskStatus = "backlog"
    priority: Priority = "medium"
    dependencies: tuple[UUID, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Activity:
    """One line of a task's history: ``actor_id`` changed ``field`` from ``old`` to ``new``."""

    id: UUID
    task_id: UUID
    project_id: UUID
    actor_id: UUID
    action: Literal["created", "updated", "moved"]
    field: str | None
    old: str | None
    new: str | None
    occurred_at: datetime


def _shown(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or None  # none left: no value
    return str(value)


@dataclass(slots=True, kw_only=True)
class Task(Aggregate[DomainEvent]):
    id: UUID
    project_id: UUID
    owner_id: UUID
    """The project's owner (not stored on the task: read through the project)."""
    title: str
    description: str = ""
    details: str = ""
    test_strategy: str = ""
    status: TaskStatus = "backlog"
    priority: Priority = "medium"
    position: str
    dependencies: tuple[UUID, ...] = ()
    version: int = 1
    created_at: datetime
    updated_at: datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)
    activity: list[Activity] = field(default_factory=list, repr=False, compare=False)
    """Entries not yet stored: the repository writes them with the task, in its transaction."""
    project_archived: bool = field(default=False, repr=False, compare=False)
    """Read with the task through its project: an archived project's tasks are read-only."""

    def ensure_writable(self) -> None:
        if self.project_archived:
            raise Conflict(f"project {self.project_id} is archived: unarchive it first")

    @classmethod
    def create(
        cls, draft: TaskDraft, *, id: UUID, position: str, actor_id: UUID, activity_id: UUID, now: datetime
    ) -> Task:
        task = cls(
            id=id,
            project_id=draft.project_id,
            owner_id=draft.owner_id,
            title=draft.title,
            description=draft.description,
            details=draft.details,
            test_strategy=draft.test_strategy,
            status=draft.status,
            priority=draft.priority,
            position=position,
            dependencies=draft.dependencies,
            created_at=now,
            updated_at=now,
        )
        task.record(TaskCreated(occurred_at=now, **task._coordinates()))
        task._log(activity_id, actor_id, "created", None, None, task.title, now)
        return task

    def edit(self, changes: dict[str, object], *, actor_id: UUID, ids: list[UUID], now: datetime) -> bool:
        """Applies the ``EDITABLE`` fields that differ; answers whether anything changed.

        ``ids`` provides one fresh id per activity entry (at most one per field).
        """
        changed = [(name, value) for name, value in changes.items() if getattr(self, name) != value]
        if not changed:
            return False
        for (name, value), activity_id in zip(changed, ids, strict=False):
            self._log(activity_id, actor_id, "updated", name, getattr(self, name), value, now)
            setattr(self, name, value)
        self._bump(now)
        self.record(TaskUpdated(occurred_at=now, fields=tuple(n for n, _ in changed), **self._coordinates()))
        return True

    def set_dependencies(
        self, dependencies: tuple[UUID, ...], *, actor_id: UUID, activity_id: UUID, now: datetime
    ) -> bool:
        """Replaces the dependencies (checked by the caller: same board, no cycle)."""
        if set(dependencies) == set(self.dependencies):
            return False
        self._log(activity_id, actor_id, "updated", "dependencies", self.dependencies, dependencies, now)
        self.dependencies = dependencies
        self._bump(now)
        self.record(TaskUpdated(occurred_at=now, fields=("dependencies",), **self._coordinates()))
        return True

    def move(
        self, status: TaskStatus, position: str, *, actor_id: UUID, activity_id: UUID, now: datetime
    ) -> None:
        """Puts the task in ``status`` at ``position``; only this task's key changes."""
        before = self.status
        if status != before:
            self._log(activity_id, actor_id, "moved", "status", before, status, now)
        else:
            self._log(activity_id, actor_id, "moved", "position", self.position, position, now)
        self.status, self.position = status, position
        self._bump(now)
        self.record(TaskMoved(occurred_at=now, from_status=before, **self._coordinates()))

    def delete(self, now: datetime) -> None:
        self.record(TaskDeleted(occurred_at=now, **self._coordinates()))

    def _bump(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = now

    def _coordinates(self) -> _Coordinates:
        return {
            "task_id": self.id,
            "project_id": self.project_id,
            "owner_id": self.owner_id,
            "status": self.status,
            "position": self.position,
            "version": self.version,
        }

    def _log(
        self,
        activity_id: UUID,
        actor_id: UUID,
        action: Literal["created", "updated", "moved"],
        name: str | None,
        old: object,
        new: object,
        now: datetime,
    ) -> None:
        self.activity.append(
            Activity(
                id=activity_id,
                task_id=self.id,
                project_id=self.project_id,
                actor_id=actor_id,
                action=action,
                field=name,
                old=_shown(old),
                new=_shown(new),
                occurred_at=now,
            )
        )
