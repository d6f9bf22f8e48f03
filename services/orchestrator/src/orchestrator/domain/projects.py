"""A project: what a person wants to build, and the root of everything orchestrator keeps for it.

Interviews, prompts, tasks, commits and chat-session links belong to exactly one project,
and a project to exactly one owner: whoever cannot see the project sees none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

from orchestrator.domain.events import DomainEvent
from shared.kernel.aggregate import Aggregate
from shared.kernel.errors import Conflict

ProjectStatus = Literal["active", "archived"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectEvent(DomainEvent):
    project_id: UUID
    owner_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectCreated(ProjectEvent):
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectUpdated(ProjectEvent):
    """Name, description or status changed; the event states them as they are now."""

    name: str
    status: ProjectStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectDeleted(ProjectEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectCounts:
    """How much a project holds: tasks per board column, prompts and interviews."""

    tasks: dict[str, int] = field(default_factory=dict)
    """Column (``backlog``, ``todo``...) → number of tasks; a column without tasks is absent."""
    prompts: int = 0
    interviews: int = 0


@dataclass(slots=True, kw_only=True)
class Project(Aggregate[DomainEvent]):
    id: UUID
    owner_id: UUID
    name: str
    description: str = ""
    status: ProjectStatus = "active"
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(cls, *, id: UUID, owner_id: UUID, name: str, description: str, now: datetime) -> Project:
        project = cls(
            id=id, owner_id=owner_id, name=name, description=description, created_at=now, updated_at=now
        )
        project.record(ProjectCreated(occurred_at=now, project_id=id, owner_id=owner_id, name=name))
        return project

    @property
    def is_archived(self) -> bool:
        return self.status == "archived"

    def ensure_writable(self) -> None:
        """An archived project is read-only until it is unarchived."""
        if self.is_archived:
            raise Conflict(f"project {self.id} is archived: unarchive it first")

    def rename(self, *, name: str | None, description: str | None, now: datetime) -> None:
        self.ensure_writable()
        if name is not None:
            self.name = name
        if description is not None:
            self.description = description
        self._updated(now)

    def archive(self, now: datetime) -> None:
        if not self.is_archived:
            self.status, self.archived_at = "archived", now
            self._updated(now)

    def unarchive(self, now: datetime) -> None:
        if self.is_archived:
            self.status, self.archived_at = "active", None
            self._updated(now)

    def delete(self, now: datetime) -> None:
        self.record(ProjectDeleted(occurred_at=now, project_id=self.id, owner_id=self.owner_id))

    def _updated(self, now: datetime) -> None:
        self.updated_at = now
        self.record(
            ProjectUpdated(
                occurred_at=now,
                project_id=self.id,
                owner_id=self.owner_id,
                name=self.name,
                status=self.status,
            )
        )
