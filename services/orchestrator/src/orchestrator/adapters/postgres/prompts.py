"""Prompt lineages and versions in PostgreSQL (SQLAlchemy Core; rows mapped explicitly)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.adapters.postgres.tables import projects, prompt_lineages, prompts
from orchestrator.application.ports.prompts import LineageSummary
from orchestrator.domain.events import Recorded
from orchestrator.domain.prompts import Prompt, PromptLineage
from shared.kernel.aggregate import Seen

_PROMPT = tuple(prompts.c)
_LINEAGE = (
    prompt_lineages.c.id,
    prompt_lineages.c.project_id,
    prompt_lineages.c.latest_version,
    prompt_lineages.c.labels,
    prompt_lineages.c.created_at,
    prompt_lineages.c.updated_at,
)
# the lineage's owner comes with it (its events carry it)
_WITH_OWNER = prompt_lineages.join(projects, projects.c.id == prompt_lineages.c.project_id)

_BY_ID = sa.select(*_PROMPT).where(prompts.c.id == sa.bindparam("id"))
_BY_VERSION = sa.select(*_PROMPT).where(
    prompts.c.lineage_id == sa.bindparam("lineage_id"), prompts.c.version == sa.bindparam("version")
)
_LINEAGE_BY_ID = (
    sa.select(*_LINEAGE, projects.c.owner_id)
    .select_from(_WITH_OWNER)
    .where(prompt_lineages.c.id == sa.bindparam("id"))
)
_LINEAGE_FOR_UPDATE = _LINEAGE_BY_ID.with_for_update(of=prompt_lineages)
# a version, its lineage and the owner check in one round trip: the read path of GET /prompts/{id}
_OWNED = (
    sa.select(*_PROMPT, *(c.label(f"l_{c.name}") for c in _LINEAGE), projects.c.owner_id)
    .select_from(
        prompts.join(prompt_lineages, prompt_lineages.c.id == prompts.c.lineage_id).join(
            projects, projects.c.id == prompts.c.project_id
        )
    )
    .where(prompts.c.id == sa.bindparam("id"), projects.c.owner_id == sa.bindparam("owner_id"))
)
_VERSIONS = (
    sa.select(*_PROMPT)
    .where(prompts.c.lineage_id == sa.bindparam("lineage_id"), prompts.c.version < sa.bindparam("before"))
    .order_by(prompts.c.version.desc())
    .limit(sa.bindparam("limit"))
)
# one query for a page of lineages, each joined to its latest version (the unique
# (lineage_id, version) index finds it)
_LATEST = prompts.alias("latest")
_LINEAGES = (
    sa.select(*_LINEAGE, projects.c.owner_id, *(c.label(f"v_{c.name}") for c in _LATEST.c))
    .select_from(_WITH_OWNER)
    .join(
        _LATEST,
        sa.and_(
            _LATEST.c.lineage_id == prompt_lineages.c.id,
            _LATEST.c.version == prompt_lineages.c.latest_version,
        ),
    )
    .where(
        prompt_lineages.c.project_id == sa.bindparam("project_id"),
        prompt_lineages.c.id < sa.bindparam("before"),
    )
    .order_by(prompt_lineages.c.id.desc())
    .limit(sa.bindparam("limit"))
)
_INSERT_LINEAGE = prompt_lineages.insert()
_INSERT_PROMPT = prompts.insert()
_UPDATE_LINEAGE = (
    prompt_lineages.update()
    .where(prompt_lineages.c.id == sa.bindparam("key"))
    .values(
        latest_version=sa.bindparam("latest_version"),
        labels=sa.bindparam("labels"),
        updated_at=sa.bindparam("updated_at"),
    )
)
_DELETE_LINEAGE = prompt_lineages.delete().where(prompt_lineages.c.id == sa.bindparam("id"))

_MAX_UUID = UUID(int=(1 << 128) - 1)
_MAX_VERSION = 2**31 - 1


def prompt_from_row(row: Mapping[Any, Any], prefix: str = "") -> Prompt:
    return Prompt(
        id=row[f"{prefix}id"],
        lineage_id=row[f"{prefix}lineage_id"],
        project_id=row[f"{prefix}project_id"],
        version=row[f"{prefix}version"],
        parent_id=row[f"{prefix}parent_id"],
        title=row[f"{prefix}title"],
        content=row[f"{prefix}content"],
        created_by=row[f"{prefix}created_by"],
        created_at=row[f"{prefix}created_at"],
        interview_id=row[f"{prefix}interview_id"],
        model=row[f"{prefix}model"],
    )


def lineage_from_row(row: Mapping[Any, Any], prefix: str = "") -> PromptLineage:
    return PromptLineage(
        id=row[f"{prefix}id"],
        project_id=row[f"{prefix}project_id"],
        owner_id=row["owner_id"],
        latest_version=row[f"{prefix}latest_version"],
        labels={str(name): int(version) for name, version in row[f"{prefix}labels"].items()},
        created_at=row[f"{prefix}created_at"],
        updated_at=row[f"{prefix}updated_at"],
    )


def _prompt_values(prompt: Prompt) -> dict[str, Any]:
    return {c.name: getattr(prompt, c.name) for c in _PROMPT}


class SqlAlchemyPromptRepository:
    """Every lineage it loads or adds joins ``seen``: its events go out when the unit of work commits."""

    def __init__(self, conn: AsyncConnection, seen: Seen[Recorded]) -> None:
        self._conn = conn
        self._seen = seen

    async def get(self, prompt_id: UUID) -> Prompt | None:
        row = (await self._conn.execute(_BY_ID, {"id": prompt_id})).first()
        return None if row is None else prompt_from_row(row._mapping)

    async def owned(self, prompt_id: UUID, owner_id: UUID) -> tuple[Prompt, PromptLineage] | None:
        row = (await self._conn.execute(_OWNED, {"id": prompt_id, "owner_id": owner_id})).first()
        if row is None:
            return None
        return prompt_from_row(row._mapping), lineage_from_row(row._mapping, "l_")

    async def get_version(self, lineage_id: UUID, version: int) -> Prompt | None:
        params = {"lineage_id": lineage_id, "version": version}
        row = (await self._conn.execute(_BY_VERSION, params)).first()
        return None if row is None else prompt_from_row(row._mapping)

    async def lineage(self, lineage_id: UUID, *, for_update: bool = False) -> PromptLineage | None:
        statement = _LINEAGE_FOR_UPDATE if for_update else _LINEAGE_BY_ID
        row = (await self._conn.execute(statement, {"id": lineage_id})).first()
        if row is None:
            return None
        lineage = lineage_from_row(row._mapping)
        self._seen.add(lineage)
        return lineage

    async def versions(self, lineage_id: UUID, *, before_version: int | None, limit: int) -> Sequence[Prompt]:
        params = {"lineage_id": lineage_id, "before": before_version or _MAX_VERSION, "limit": limit}
        return [prompt_from_row(row._mapping) for row in await self._conn.execute(_VERSIONS, params)]

    async def lineages(
        self, project_id: UUID, *, before_id: UUID | None, limit: int
    ) -> Sequence[LineageSummary]:
        params = {"project_id": project_id, "before": before_id or _MAX_UUID, "limit": limit}
        rows = await self._conn.execute(_LINEAGES, params)
        return [
            LineageSummary(lineage=lineage_from_row(row._mapping), latest=prompt_from_row(row._mapping, "v_"))
            for row in rows
        ]

    async def add(self, lineage: PromptLineage, first: Prompt) -> None:
        await self._conn.execute(
            _INSERT_LINEAGE,
            {
                "id": lineage.id,
                "project_id": lineage.project_id,
                "latest_version": lineage.latest_version,
                "labels": lineage.labels,
                "created_at": lineage.created_at,
                "updated_at": lineage.updated_at,
            },
        )
        await self._conn.execute(_INSERT_PROMPT, _prompt_values(first))
        self._seen.add(lineage)

    async def add_version(self, lineage: PromptLineage, prompt: Prompt) -> None:
        await self._conn.execute(_INSERT_PROMPT, _prompt_values(prompt))
        await self.update(lineage)

    async def update(self, lineage: PromptLineage) -> None:
        await self._conn.execute(
            _UPDATE_LINEAGE,
            {
                "key": lineage.id,
                "latest_version": lineage.latest_version,
                "labels": lineage.labels,
                "updated_at": lineage.updated_at,
            },
        )

    async def delete(self, lineage_id: UUID) -> None:
        await self._conn.execute(_DELETE_LINEAGE, {"id": lineage_id})
