"""Projects: create, read, rename, archive and unarchive, delete (which cascades).

Every read and write is through the owner; another owner's project is "not found", so
nobody learns whether an id exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from uuid import UUID

from orchestrator.application.ports import UnitOfWork
from orchestrator.domain.projects import Project, ProjectCounts, ProjectStatus
from shared.kernel.clock import Clock, SystemClock
from shared.kernel.errors import NotFound
from shared.kernel.ids import new_id

_CLOCK: Final = SystemClock()


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectView:
    """A project with what it holds, as reads answer it."""

    project: Project
    counts: ProjectCounts


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateProject:
    owner_id: UUID
    name: str
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateProject:
    owner_id: UUID
    project_id: UUID
    name: str | None = None
    description: str | None = None


async def create_project(cmd: CreateProject, uow: UnitOfWork, *, clock: Clock = _CLOCK) -> ProjectView:
    """A new active project of ``cmd.owner_id``; announces ``ProjectCreated``."""
    async with uow:
        project = Project.create(
            id=new_id(), owner_id=cmd.owner_id, name=cmd.name, description=cmd.description, now=clock.now()
        )
        await uow.projects.add(project)
        await uow.commit()
    return ProjectView(project=project, counts=ProjectCounts())


async def get_project(owner_id: UUID, project_id: UUID, uow: UnitOfWork) -> ProjectView:
    """The project with its counts. Raises NotFound for someone else's."""
    async with uow:
        project = await owned_project(uow, project_id, owner_id)
        counts = await uow.projects.counts([project.id])
    return ProjectView(project=project, counts=counts.get(project.id, ProjectCounts()))


async def list_projects(
    owner_id: UUID, uow: UnitOfWork, *, status: ProjectStatus | None, before_id: UUID | None, limit: int
) -> list[ProjectView]:
    """Up to ``limit`` of the owner's projects, newest first, with their counts: two queries
    for the whole page (the projects, then every project's counts at once)."""
    async with uow:
        projects = await uow.projects.list_owned(owner_id, status=status, before_id=before_id, limit=limit)
        counts = await uow.projects.counts([p.id for p in projects]) if projects else {}
    return [ProjectView(project=p, counts=counts.get(p.id, ProjectCounts())) for p in projects]


async def update_project(cmd: UpdateProject, uow: UnitOfWork, *, clock: Clock = _CLOCK) -> ProjectView:
    """Renames or redescribes the project. Raises Conflict when it is archived."""
    async with uow:
        project = await owned_project(uow, cmd.project_id, cmd.owner_id, for_update=True)
        project.rename(name=cmd.name, description=cmd.description, now=clock.now())
        await uow.projects.update(project)
        counts = await uow.projects.counts([project.id])
        await uow.commit()
    return ProjectView(project=project, counts=counts.get(project.id, ProjectCounts()))


async def set_archived(
    owner_id: UUID, project_id: UUID, archived: bool, uow: UnitOfWork, *, clock: Clock = _CLOCK
) -> ProjectView:
    """Archives (read-only: every write to it or its tasks is a 409) or unarchives the project.
    Idempotent: archiving an archived project changes nothing and announces nothing."""
    async with uow:
        project = await owned_project(uow, project_id, owner_id, for_update=True)
        was = project.status
        if archived:
            project.archive(clock.now())
        else:
            project.unarchive(clock.now())
        if project.status != was:
            await uow.projects.update(project)
        counts = await uow.projects.counts([project.id])
        await uow.commit()
    return ProjectView(project=project, counts=counts.get(project.id, ProjectCounts()))


async def delete_project(owner_id: UUID, project_id: UUID, uow: UnitOfWork, *, clock: Clock = _CLOCK) -> None:
    """Deletes the project and everything it holds (by cascade), archived or not."""
    async with uow:
        project = await owned_project(uow, project_id, owner_id, for_update=True)
        project.delete(clock.now())
        await uow.projects.delete(project.id)
        await uow.commit()
