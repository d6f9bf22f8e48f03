"""``/projects``: the caller's projects (another user's is a 404 on every route)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from orchestrator.application import projects as use_cases
from orchestrator.entrypoints.http.dependencies import UnitOfWorkDep
from orchestrator.entrypoints.http.openapi import problems
from orchestrator.entrypoints.http.parameters import Cursor, Limit, ProjectId
from orchestrator.entrypoints.http.project_schemas import ProjectCreate, ProjectResponse, ProjectUpdate
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.kernel.pagination import Page, clamp_limit, decode_cursor, encode_cursor


class ProjectsController(Controller):
    path = "/api/v1/projects"
    tags = ["projects"]
    security = BEARER_SECURITY

    @post("/", operation_id="create_project", summary="Create a project", responses=problems(400, 401, 413))
    async def create_project(
        self, data: JSONBody[ProjectCreate], principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> ProjectResponse:
        """A new, active project of mine, empty (every count 0). Announced as
        `orchestrator.project.created`."""
        command = use_cases.CreateProject(
            owner_id=principal.user_id, name=data.name, description=data.description
        )
        return ProjectResponse.of(await use_cases.create_project(command, uow))

    @get("/", operation_id="list_projects", summary="My projects", responses=problems(400, 401))
    async def list_projects(
        self,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        status: Annotated[
            Literal["active", "archived"] | None, QueryParameter(description="Only projects in this status.")
        ] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ProjectResponse]:
        """My projects, newest first, each with its counts (tasks per column, prompts,
        interviews): one page, with the cursor of the next (`null` on the last)."""
        size = clamp_limit(limit)
        before_id = None if cursor is None else decode_cursor(cursor, UUID)
        views = await use_cases.list_projects(
            principal.user_id, uow, status=status, before_id=before_id, limit=size + 1
        )
        items = [ProjectResponse.of(view) for view in views[:size]]
        next_cursor = encode_cursor(items[-1].id) if len(views) > size else None
        return Page(items=items, next_cursor=next_cursor)

    @get(
        "/{project_id:uuid}",
        operation_id="get_project",
        summary="One of my projects",
        responses=problems(400, 401, 404),
    )
    async def get_project(
        self, project_id: ProjectId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> ProjectResponse:
        """The project with its counts: tasks per board column, prompts and interviews."""
        return ProjectResponse.of(await use_cases.get_project(principal.user_id, project_id, uow))

    @patch(
        "/{project_id:uuid}",
        operation_id="update_project",
        summary="Rename or redescribe a project",
        responses=problems(400, 401, 404, 409, 413),
    )
    async def update_project(
        self,
        project_id: ProjectId,
        data: JSONBody[ProjectUpdate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
    ) -> ProjectResponse:
        """Changes the name and/or the description (absent fields stay). An archived project is
        read-only: 409 until it is unarchived. Announced as `orchestrator.project.updated`."""
        command = use_cases.UpdateProject(
            owner_id=principal.user_id, project_id=project_id, name=data.name, description=data.description
        )
        return ProjectResponse.of(await use_cases.update_project(command, uow))

    @post(
        "/{project_id:uuid}/archive",
        operation_id="archive_project",
        summary="Archive a project",
        responses=problems(400, 401, 404),
        status_code=200,
    )
    async def archive_project(
        self, project_id: ProjectId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> ProjectResponse:
        """Makes the project read-only: every write to it or to its tasks is a 409 until it is
        unarchived. Archiving an archived project changes nothing."""
        return ProjectResponse.of(await use_cases.set_archived(principal.user_id, project_id, True, uow))

    @post(
        "/{project_id:uuid}/unarchive",
        operation_id="unarchive_project",
        summary="Unarchive a project",
        responses=problems(400, 401, 404),
        status_code=200,
    )
    async def unarchive_project(
        self, project_id: ProjectId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> ProjectResponse:
        """Makes the project writable again. Unarchiving an active project changes nothing."""
        return ProjectResponse.of(await use_cases.set_archived(principal.user_id, project_id, False, uow))

    @delete(
        "/{project_id:uuid}",
        operation_id="delete_project",
        summary="Delete a project and all it holds",
        responses=problems(400, 401, 404),
        status_code=204,
    )
    async def delete_project(
        self, project_id: ProjectId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> None:
        """Deletes the project, archived or not, with its interviews, prompts, tasks, commits and
        chat-session links. Announced as `orchestrator.project.deleted`."""
        await use_cases.delete_project(principal.user_id, project_id, uow)
