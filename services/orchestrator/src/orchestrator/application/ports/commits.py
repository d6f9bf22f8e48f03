"""Where commits are kept, and the task links commits and chat sessions check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from orchestrator.domain.commits import Commit


class CommitRepository(Protocol):
    """A project's commits. Callers check the project's owner first (``owned_project``).

    Transactional: changes count once the unit of work commits.
    """

    async def add(self, commit: Commit) -> None:
        """Raises ``Conflict`` when the project already has a commit with this sha."""
        ...

    async def get(self, commit_id: UUID, owner_id: UUID) -> Commit | None:
        """The commit if ``owner_id`` owns its project."""
        ...

    async def by_sha(self, project_id: UUID, sha: str) -> Commit | None: ...

    async def page(
        self, project_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int, type: str | None
    ) -> Sequence[Commit]:
        """Up to ``limit`` commits newest first (``committed_at``, ``id``), strictly after ``after``."""
        ...

    async def of_task(
        self, task_id: UUID, owner_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[Commit]:
        """Up to ``limit`` commits linked to the task (of ``owner_id``'s projects), newest first."""
        ...

    async def since(
        self, project_id: UUID, *, after: datetime | tuple[datetime, UUID] | None
    ) -> Sequence[Commit]:
        """Every commit strictly after ``after`` (a time, or a commit's ``(committed_at, id)``;
        all when ``None``), newest first."""
        ...

    async def delete(self, commit: Commit) -> None: ...


@dataclass(frozen=True, slots=True)
class TaskRef:
    project_id: UUID
    title: str


class TaskLinks(Protocol):
    """Which project a task belongs to, for links to tasks made by other areas. Not locking."""

    async def find(self, task_id: UUID, owner_id: UUID) -> TaskRef | None:
        """The task's project and title if ``owner_id`` owns it, else ``None``."""
        ...

    async def project_of(self, task_id: UUID, owner_id: UUID) -> UUID | None:
        """The task's project if ``owner_id`` owns it, else ``None``."""
        ...
