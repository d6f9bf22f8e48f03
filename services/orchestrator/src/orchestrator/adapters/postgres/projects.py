"""Projects in PostgreSQL (SQLAlchemy Core; rows mapped to ``Project`` explicitly)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.adapters.postgres.tables import projects
from orchestrator.domain.events import Recorded
from orchestrator.domain.projects import Project, ProjectStatus
from shared.kernel.aggregate import Seen

_COLUMNS = tuple(projects.c)
_BY_ID = sa.select(*_COLUMNS).where(
    projects.c.id == sa.bindparam("id"), projects.c.owner_id == sa.bindparam("owner_id")
)
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_INSERT = projects.insert()
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
