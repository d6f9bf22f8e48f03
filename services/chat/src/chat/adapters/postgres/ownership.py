"""The project/task ownership replica in PostgreSQL (``project_replicas``, ``task_replicas``).

Each write is one conditional upsert, so two worker replicas applying facts about the same
id at once still leave the newest: an older fact, or any fact about a tombstone, matches no
row. A tombstone wins whatever its time: deletion is final in orchestrator.
"""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from chat.adapters.postgres.tables import project_replicas, task_replicas
from chat.application.ports.ownership import ProjectFact, TaskFact

_OWNS_PROJECT = sa.select(project_replicas.c.id).where(
    project_replicas.c.id == sa.bindparam("project_id"),
    project_replicas.c.owner_id == sa.bindparam("owner_id"),
    sa.not_(project_replicas.c.deleted),
)
# a task counts only while its project (of the same owner) does
_PROJECT_OF_TASK = (
    sa.select(task_replicas.c.project_id)
    .join(project_replicas, project_replicas.c.id == task_replicas.c.project_id)
    .where(
        task_replicas.c.id == sa.bindparam("task_id"),
        task_replicas.c.owner_id == sa.bindparam("owner_id"),
        sa.not_(task_replicas.c.deleted),
        project_replicas.c.owner_id == sa.bindparam("owner_id"),
        sa.not_(project_replicas.c.deleted),
    )
)


def _upsert(table: sa.Table, *, tombstone: bool) -> sa.Insert:
    statement = insert(table)
    moves_forward = sa.not_(table.c.deleted)
    if not tombstone:
        moves_forward = sa.and_(moves_forward, table.c.changed_at < statement.excluded.changed_at)
    return statement.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={
            **{c.name: statement.excluded[c.name] for c in table.c if c.name not in ("id", "changed_at")},
            "changed_at": sa.func.greatest(table.c.changed_at, statement.excluded.changed_at),
        },
        where=moves_forward,
    ).returning(table.c.id)


_RECORD_PROJECT = _upsert(project_replicas, tombstone=False)
_TOMBSTONE_PROJECT = _upsert(project_replicas, tombstone=True)
_RECORD_TASK = _upsert(task_replicas, tombstone=False)
_TOMBSTONE_TASK = _upsert(task_replicas, tombstone=True)
_TOMBSTONE_TASKS_OF = (
    task_replicas.update()
    .where(task_replicas.c.project_id == sa.bindparam("of_project"), sa.not_(task_replicas.c.deleted))
    .values(deleted=True, changed_at=sa.func.greatest(task_replicas.c.changed_at, sa.bindparam("at")))
)

_FORGET_PROJECTS = (
    project_replicas.update()
    .where(project_replicas.c.owner_id == sa.bindparam("of_owner"), sa.not_(project_replicas.c.deleted))
    .values(deleted=True)
)
_FORGET_TASKS = (
    task_replicas.update()
    .where(task_replicas.c.owner_id == sa.bindparam("of_owner"), sa.not_(task_replicas.c.deleted))
    .values(deleted=True)
)


class SqlAlchemyOwnership:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def owns_project(self, owner_id: UUID, project_id: UUID) -> bool:
        params = {"owner_id": owner_id, "project_id": project_id}
        return (await self._conn.execute(_OWNS_PROJECT, params)).first() is not None

    async def project_of_task(self, owner_id: UUID, task_id: UUID) -> UUID | None:
        params = {"owner_id": owner_id, "task_id": task_id}
        found: UUID | None = (await self._conn.execute(_PROJECT_OF_TASK, params)).scalar_one_or_none()
        return found

    async def record_project(self, fact: ProjectFact) -> bool:
        statement = _TOMBSTONE_PROJECT if fact.deleted else _RECORD_PROJECT
        values = {
            "id": fact.project_id,
            "owner_id": fact.owner_id,
            "deleted": fact.deleted,
            "changed_at": fact.at,
        }
        changed = (await self._conn.execute(statement, values)).first() is not None
        if fact.deleted:
            # its tasks go with it (a task event arriving later counts for nothing: reads need the project)
            await self._conn.execute(_TOMBSTONE_TASKS_OF, {"of_project": fact.project_id, "at": fact.at})
        return changed

    async def record_task(self, fact: TaskFact) -> bool:
        statement = _TOMBSTONE_TASK if fact.deleted else _RECORD_TASK
        values = {
            "id": fact.task_id,
            "project_id": fact.project_id,
            "owner_id": fact.owner_id,
            "deleted": fact.deleted,
            "changed_at": fact.at,
        }
        return (await self._conn.execute(statement, values)).first() is not None

    async def forget_owner(self, owner_id: UUID) -> int:
        await self._conn.execute(_FORGET_TASKS, {"of_owner": owner_id})
        return (await self._conn.execute(_FORGET_PROJECTS, {"of_owner": owner_id})).rowcount
