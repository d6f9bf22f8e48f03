"""Projects: create, read, rename, archive and unarchive, delete (which cascades).

Every read and write is through the owner; another owner's project is "not found", so
nobody learns whether an id exists.
"""

from __future__ import annotations

from uuid import UUID

from orchestrator.application.ports import UnitOfWork
from orchestrator.domain.projects import Project
from shared.kernel.errors import NotFound


async def owned_project(
    uow: UnitOfWork, project_id: UUID, owner_id: UUID, *, for_update: bool = False
) -> Project:
    """The project ``owner_id`` owns, inside ``uow``'s open transaction.

    Raises:
        NotFound: no such project, or it is someone else's.
    """
    project = await uow.projects.get(project_id, owner_id, for_update=for_update)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project
