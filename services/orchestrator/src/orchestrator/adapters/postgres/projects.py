"""Projects in PostgreSQL (SQLAlchemy Core; rows mapped to ``Project`` explicitly)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.adapters.postgres.tables import interviews, projects, prompt_lineages, tasks
from orchestrator.domain.events import Recorded
from orchestrator.domain.projects import Project, ProjectCounts, ProjectStatus
from shared.kernel.aggregate import Seen

_COLUMNS = tuple(projects.c)
_BY_ID = sa.select(*_COLUMNS).where(
    projects.c.id == sa.bindparam("id"), projects.c.owner_id == sa.bindparam("owner_id")
)
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_INSERT = projects.insert()
# the owner's list, newest first (UUIDv7 ids are time-ordered): projects_owner_id_idx
_LIST = (
    sa.select(*_COLUMNS)
    .where(projects.c.owner_id == sa.bindparam("owner_id"))
    .order_by(projects.c.id.desc())
    .limit(sa.bindparam("limit"))
)
_LIST_VARIANTS = {
    (with_status, with_before): _LIST.where(
        *([projects.c.status == sa.bindparam("status")] if with_status else []),
        *([projects.c.id < sa.bindparam("before_id")] if with_before else []),
    )
    for with_status in (False, True)
    for with_before in (False, True)
}
_ids: sa.BindParameter[list[UUID]] = sa.bindparam("ids", expanding=True)
# a whole page's counts in one round trip: (project, what, how many)
_COUNTS = sa.union_all(
    sa.select(tasks.c.project_id, tasks.c.status, sa.func.count())
    .where(tasks.c.project_id.in_(_ids))
    .group_by(tasks.c.project_id, tasks.c.status),
    sa.select(prompt_lineages.c.project_id, sa.literal("prompts"), sa.func.count())
    .where(prompt_lineages.c.project_id.in_(_ids))
    .group_by(prompt_lineages.c.project_id),
    sa.select(interviews.c.project_id, sa.literal("interviews"), sa.func.count())
    .where(interviews.c.project_id.in_(_ids))
    .group_by(interviews.c.project_id),
)
_UPDATE = (
    projects.update()
    .where(projects.c.id == sa.bindparam("key"))
    .values(
        {c.name: sa.bindparam(c.name) for c in _COLUMNS if c.name not in ("id", "owner_id", "created_at")}
    )
)
_DELETE = projects.delete().where(projects.c.id == sa.bindparam("id"))
_DELETE_OWNED = projects.delete().where(projects.c.owner_id == sa.bindparam("owner_id"))


def project_from_row(row: Mapping[Any, Any]) -> Project:
    """The one mapping of a ``projects`` row: a SQLAlchemy row's ``_mapping`` or an asyncpg record."""
    return Project(
        id=row["id"],
        owner_id=row["owner_id"],
        name=row["name"],
        description=row["description"],
        status=cast(ProjectStatus, row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        archived_at=row["archived_at"],
    )


def _values(project: Project) -> dict[str, Any]:
    return {c.name: getattr(project, c.name) for c in _COLUMNS}


class SqlAlchemyProjectRepository:
    """Every project it loads or adds joins ``seen``: its events go out when the unit of work commits."""

    def __init__(self, conn: AsyncConnection, seen: Seen[Recorded]) -> None:
        self._conn = conn
        self._seen = seen

    async def get(self, project_id: UUID, owner_id: UUID, *, for_update: bool = False) -> Project | None:
        statement = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        row = (await self._conn.execute(statement, {"id": project_id, "owner_id": owner_id})).first()
        if row is None:
            return None
        project = project_from_row(row._mapping)
        self._seen.add(project)
        return project

    async def list_owned(
        self, owner_id: UUID, *, status: ProjectStatus | None, before_id: UUID | None, limit: int
    ) -> Sequence[Project]:
        statement = _LIST_VARIANTS[(status is not None, before_id is not None)]
        params = {"owner_id": owner_id, "status": status, "before_id": before_id, "limit": limit}
        return [project_from_row(row._mapping) for row in await self._conn.execute(statement, params)]

    async def counts(self, project_ids: Sequence[UUID]) -> Mapping[UUID, ProjectCounts]:
        found: dict[UUID, tuple[dict[str, int], dict[str, int]]] = {}
        for project_id, what, count in await self._conn.execute(_COUNTS, {"ids": list(project_ids)}):
            columns, others = found.setdefault(project_id, ({}, {}))
            (others if what in ("prompts", "interviews") else columns)[what] = count
        return {
            project_id: ProjectCounts(
                tasks=columns, prompts=others.get("prompts", 0), interviews=others.get("interviews", 0)
            )
            for project_id, (columns, others) in found.items()
        }

    async def add(self, project: Project) -> None:
        await self._conn.execute(_INSERT, _values(project))
        self._seen.add(project)

    async def update(self, project: Project) -> None:
        values = _values(project)
        values["key"] = values.pop("id")
        await self._conn.execute(_UPDATE, values)

    async def delete(self, project_id: UUID) -> None:
        await self._conn.execute(_DELETE, {"id": project_id})

    async def delete_owned_by(self, owner_id: UUID) -> int:
        return (await self._conn.execute(_DELETE_OWNED, {"owner_id": owner_id})).rowcount
