"""Request and response bodies of ``/projects``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from orchestrator.application.projects import ProjectView
from orchestrator.domain.tasks import COLUMNS

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="What the project is called.")]
Description = Annotated[
    str,
    msgspec.Meta(
        max_length=5000, description="What the project is about, for people (up to 5000 characters)."
    ),
]


class ProjectCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    description: Description = ""


class ProjectUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # Meta inside the union: Litestar documents an outer Meta's description only, not Name's limits
    name: Annotated[Name, msgspec.Meta(description="A new name; absent or null keeps it.")] | None = None
    description: (
        Annotated[Description, msgspec.Meta(description="A new description; absent or null keeps it.")] | None
    ) = None


class TaskCounts(msgspec.Struct, frozen=True, kw_only=True):
    backlog: int = 0
    todo: int = 0
    in_progress: int = 0
    review: int = 0
    done: int = 0


class ProjectCountsResponse(msgspec.Struct, frozen=True, kw_only=True):
    tasks: Annotated[TaskCounts, msgspec.Meta(description="Tasks in each board column.")]
    total_tasks: Annotated[int, msgspec.Meta(description="Tasks on the board, all columns.")]
    prompts: Annotated[int, msgspec.Meta(description="Prompts (each with its versions counted once).")]
    interviews: Annotated[int, msgspec.Meta(description="Requirement interviews, whatever their status.")]


class ProjectResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    description: str
    status: Annotated[
        Literal["active", "archived"],
        msgspec.Meta(description="`archived`: read-only (writes to it and its tasks are refused with 409)."),
    ]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    counts: ProjectCountsResponse

    @classmethod
    def of(cls, view: ProjectView) -> ProjectResponse:
        project, counts = view.project, view.counts
        per_column = {status: counts.tasks.get(status, 0) for status in COLUMNS}
        return cls(
            id=project.id,
            name=project.name,
            description=project.description,
            status=project.status,
            created_at=project.created_at,
            updated_at=project.updated_at,
            archived_at=project.archived_at,
            counts=ProjectCountsResponse(
                tasks=TaskCounts(**per_column),
                total_tasks=sum(per_column.values()),
                prompts=counts.prompts,
                interviews=counts.interviews,
            ),
        )
