"""Request and response bodies of the board and its tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from orchestrator.domain.board import Card
from orchestrator.domain.tasks import Activity, Task
from shared.http.problems import Problem

Status = Annotated[
    Literal["backlog", "todo", "in_progress", "review", "done"],
    msgspec.Meta(description="The board column, left to right: backlog, todo, in_progress, review, done."),
]
PriorityLevel = Annotated[
    Literal["low", "medium", "high", "urgent"],
    msgspec.Meta(description="How urgent: low < medium < high < urgent."),
]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="A short imperative title.")]
Description = Annotated[
    str, msgspec.Meta(max_length=10_000, description="What the task is (up to 10000 characters).")
]
Details = Annotated[
    str,
    msgspec.Meta(
        max_length=50_000, description="How to do it: implementation notes (up to 50000 characters)."
    ),
]
TestStrategy = Annotated[
    str, msgspec.Meta(max_length=10_000, description="How to check it is done (up to 10000 characters).")
]
Dependencies = Annotated[
    list[UUID],
    msgspec.Meta(
        max_length=100, description="Tasks of the same board that must be done first (at most 100)."
    ),
]
AfterId = Annotated[
    UUID | None, msgspec.Meta(description="Place it right after this task of the target column.")
]
BeforeId = Annotated[
    UUID | None,
    msgspec.Meta(
        description="Place it right before this task of the target column (with `after_id`: between both)."
    ),
]


class TaskCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Title
    description: Description = ""
    details: Details = ""
    test_strategy: TestStrategy = ""
    status: Status = "backlog"
    priority: PriorityLevel = "medium"
    dependencies: Dependencies = msgspec.field(default_factory=list)
    after_id: AfterId = None
    before_id: BeforeId = None


class TaskUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Absent (or null) fields keep their value."""

    title: Title | None = None
    description: Description | None = None
    details: Details | None = None
    test_strategy: TestStrategy | None = None
    priority: PriorityLevel | None = None
    status: Annotated[
        Status | None,
        msgspec.Meta(description="Another column: the task goes to its end (see move to place it)."),
    ] = None


class TaskMove(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: Status
    after_id: AfterId = None
    before_id: BeforeId = None


class TaskDependencies(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    dependencies: Annotated[
        list[UUID],
        msgspec.Meta(
            max_length=100,
            description="The whole new set of tasks it depends on (empty: none), all of the same board.",
        ),
    ]


class TaskResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    project_id: UUID
    title: str
    description: str
    details: str
    test_strategy: str
    status: Status
    priority: PriorityLevel
    position: Annotated[str, msgspec.Meta(description="The ordering key in its column (compare bytewise).")]
    dependencies: list[UUID]
    version: Annotated[
        int, msgspec.Meta(description='Grows by one on every change; the ETag is `"<version>"`.')
    ]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, task: Task) -> TaskResponse:
        return cls(
            id=task.id,
            project_id=task.project_id,
            title=task.title,
            description=task.description,
            details=task.details,
            test_strategy=task.test_strategy,
            status=task.status,
            priority=task.priority,
            position=task.position,
            dependencies=list(task.dependencies),
            version=task.version,
            created_at=task.created_at,
            updated_at=task.updated_at,
        )


class CardResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    title: str
    status: Status
    priority: PriorityLevel
    position: str
    dependencies: list[UUID]
    blocked: Annotated[bool, msgspec.Meta(description="Some dependency is not done yet.")]
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, card: Card, blocked: bool) -> CardResponse:
        return cls(
            id=card.id,
            title=card.title,
            status=card.status,
            priority=card.priority,
            position=card.position,
            dependencies=list(card.dependencies),
            blocked=blocked,
            version=card.version,
            updated_at=card.updated_at,
        )


class ColumnResponse(msgspec.Struct, frozen=True, kw_only=True):
    status: Status
    tasks: Annotated[list[CardResponse], msgspec.Meta(description="Top to bottom.")]


class BoardResponse(msgspec.Struct, frozen=True, kw_only=True):
    project_id: UUID
    archived: Annotated[
        bool, msgspec.Meta(description="The project is archived: the board is read-only (writes are a 409).")
    ]
    columns: Annotated[
        list[ColumnResponse], msgspec.Meta(description="Every column, left to right, even empty.")
    ]


class ActivityResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    actor_id: Annotated[UUID, msgspec.Meta(description="Who made the change.")]
    action: Literal["created", "updated", "moved"]
    field: Annotated[
        str | None, msgspec.Meta(description="The field changed (`status`, `position`, `title`...).")
    ]
    old: Annotated[str | None, msgspec.Meta(description="Its value before (lists comma-separated).")]
    new: Annotated[str | None, msgspec.Meta(description="Its value after.")]
    occurred_at: datetime

    @classmethod
    def of(cls, entry: Activity) -> ActivityResponse:
        return cls(
            id=entry.id,
            actor_id=entry.actor_id,
            action=entry.action,
            field=entry.field,
            old=entry.old,
            new=entry.new,
            occurred_at=entry.occurred_at,
        )


class StaleTaskProblem(Problem, kw_only=True):
    """A 412: the task moved on from the version the client sent; `current` is how it is now."""

    current: TaskResponse


class TaskGenerate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    prompt_id: Annotated[UUID, msgspec.Meta(description="A prompt version of this project (its own `id`).")]
    num_tasks: Annotated[
        int, msgspec.Meta(ge=1, le=50, description="The most tasks to generate (1 to 50).")
    ] = 10
    mode: Annotated[
        Literal["replace", "append"],
        msgspec.Meta(
            description="`replace`: plan the whole board (it must be empty, else 409); `append`: add tasks "
            "for a new feature, keeping the board (new tasks may depend on existing ones)."
        ),
    ] = "replace"
    model_id: Annotated[
        UUID | None, msgspec.Meta(description="An enabled AI model of the registry; absent: the default one.")
    ] = None


class GeneratedTasksResponse(msgspec.Struct, frozen=True, kw_only=True):
    tasks: Annotated[list[TaskResponse], msgspec.Meta(description="The new tasks, in the plan's order.")]
    model: Annotated[str, msgspec.Meta(description="The model that planned them (`offline`...).")]
    attempts: Annotated[
        int, msgspec.Meta(description="1, or 2 when the first plan was invalid and asked again.")
    ]
    prompt_tokens: int
    completion_tokens: int
