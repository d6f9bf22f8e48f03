"""Where projects are kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol
from uuid import UUID

from orchestrator.domain.projects import Project, ProjectCounts, ProjectStatus


class ProjectRepository(Protocol):
    """Projects, always read through their owner: another owner's project does not exist here.

    Transactional: changes count once the unit of work commits.
    """

    async def get(self, project_id: UUID, owner_id: UUID, *, for_update: bool = False) -> Project | None:
        """The project if ``owner_id`` owns it; ``for_update`` locks its row until commit."""
        ...

    async def list_owned(
        self, owner_id: UUID, *, status: ProjectStatus | None, before_id: UUID | None, limit: int
    ) -> Sequence[Project]:
        """Up to ``limit`` projects of ``owner_id``, newest first, older than ``before_id`` when
        given (ids are time-ordered), only those in ``status`` when given."""
        ...

    async def counts(self, project_ids: Sequence[UUID]) -> Mapping[UUID, ProjectCounts]:
        """What each project holds, for a whole page in one query."""
        ...

    async def add(self, project: Project) -> None: ...

    async def update(self, project: Project) -> None: ...

    async def delete(self, project_id: UUID) -> None:
        """Deletes the project and, by cascade, everything it holds."""
        ...

    async def delete_owned_by(self, owner_id: UUID) -> int:
        """Deletes every project of ``owner_id`` (the erasure); answers how many."""
        ...
