"""Commits in PostgreSQL (SQLAlchemy Core; rows mapped to ``Commit`` explicitly), and task links."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.adapters.postgres.tables import commits, projects, tasks
from orchestrator.application.ports.commits import TaskRef
from orchestrator.domain.commits import Commit
from orchestrator.domain.conventional import Footer
from orchestrator.domain.events import Recorded
from shared.kernel.aggregate import Seen
from shared.kernel.errors import Conflict

_COLUMNS = tuple(commits.c)
_NEWEST_FIRST = (commits.c.committed_at.desc(), commits.c.id.desc())
_OWNED = sa.select(*_COLUMNS).where(
    commits.c.id == sa.bindparam("id"), commits.c.owner_id == sa.bindparam("owner_id")
)
_BY_SHA = sa.select(*_COLUMNS).where(
    commits.c.project_id == sa.bindparam("project_id"), commits.c.sha == sa.bindparam("sha")
)
_OF_PROJECT = sa.select(*_COLUMNS).where(commits.c.project_id == sa.bindparam("project_id"))
_INSERT = commits.insert()
_DELETE = commits.delete().where(commits.c.id == sa.bindparam("id"))
# The board's tasks: only a task's project and title are read here, through the project's owner.
_PROJECT_OF_TASK = (
    sa.select(tasks.c.project_id, tasks.c.title)
    .join(projects, projects.c.id == tasks.c.project_id)
    .where(tasks.c.id == sa.bindparam("task_id"), projects.c.owner_id == sa.bindparam("owner_id"))
)


def commit_from_row(row: Mapping[Any, Any]) -> Commit:
    return Commit(
        id=row["id"],
        project_id=row["project_id"],
        owner_id=row["owner_id"],
        task_id=row["task_id"],
        sha=row["sha"],
        message=row["message"],
        type=row["type"],
        scope=row["scope"],
        breaking=row["breaking"],
        subject=row["subject"],
        body=row["body"],
        footers=tuple(Footer(token=f[0], value=f[1], separator=f[2]) for f in row["footers"]),
        breaking_note=row["breaking_note"],
        committed_at=row["committed_at"],
        created_at=row["created_at"],
    )


def _values(commit: Commit) -> dict[str, Any]:
    values = {c.name: getattr(commit, c.name) for c in _COLUMNS}
    values["footers"] = [[f.token, f.value, f.separator] for f in commit.footers]
    return values


class SqlAlchemyCommitRepository:
    """Every commit it loads or adds joins ``seen``: its events go out when the unit of work commits."""

    def __init__(self, conn: AsyncConnection, seen: Seen[Recorded]) -> None:
        self._conn = conn
        self._seen = seen

    def _seen_commit(self, row: Mapping[Any, Any]) -> Commit:
        commit = commit_from_row(row)
        self._seen.add(commit)
        return commit

    async def add(self, commit: Commit) -> None:
        try:
            async with self._conn.begin_nested():  # a savepoint: the duplicate leaves the transaction usable
                await self._conn.execute(_INSERT, _values(commit))
        except IntegrityError as exc:
            if "commits_project_id_sha_key" in str(exc.orig):
                raise Conflict(f"commit {commit.sha} is already recorded in this project") from None
            raise
        self._seen.add(commit)

    async def get(self, commit_id: UUID, owner_id: UUID) -> Commit | None:
        row = (await self._conn.execute(_OWNED, {"id": commit_id, "owner_id": owner_id})).first()
        return None if row is None else self._seen_commit(row._mapping)

    async def by_sha(self, project_id: UUID, sha: str) -> Commit | None:
        row = (await self._conn.execute(_BY_SHA, {"project_id": project_id, "sha": sha.lower()})).first()
        return None if row is None else self._seen_commit(row._mapping)

    async def page(
        self, project_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int, type: str | None
    ) -> Sequence[Commit]:
        statement = _OF_PROJECT
        if type is not None:
            statement = statement.where(commits.c.type == type)
        if after is not None:
            statement = statement.where(sa.tuple_(commits.c.committed_at, commits.c.id) < sa.tuple_(*after))
        statement = statement.order_by(*_NEWEST_FIRST).limit(limit)
        rows = await self._conn.execute(statement, {"project_id": project_id})
        return [commit_from_row(row._mapping) for row in rows]

    async def of_task(
        self, task_id: UUID, owner_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[Commit]:
        statement = sa.select(*_COLUMNS).where(commits.c.task_id == task_id, commits.c.owner_id == owner_id)
        if after is not None:
            statement = statement.where(sa.tuple_(commits.c.committed_at, commits.c.id) < sa.tuple_(*after))
        rows = await self._conn.execute(statement.order_by(*_NEWEST_FIRST).limit(limit))
        return [commit_from_row(row._mapping) for row in rows]

    async def since(
        self, project_id: UUID, *, after: datetime | tuple[datetime, UUID] | None
    ) -> Sequence[Commit]:
        statement = _OF_PROJECT
        if isinstance(after, tuple):
            statement = statement.where(sa.tuple_(commits.c.committed_at, commits.c.id) > sa.tuple_(*after))
        elif after is not None:
            statement = statement.where(commits.c.committed_at > after)
        rows = await self._conn.execute(statement.order_by(*_NEWEST_FIRST), {"project_id": project_id})
        return [commit_from_row(row._mapping) for row in rows]

    async def delete(self, commit: Commit) -> None:
        await self._conn.execute(_DELETE, {"id": commit.id})


class SqlAlchemyTaskLinks:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def find(self, task_id: UUID, owner_id: UUID) -> TaskRef | None:
        row = (await self._conn.execute(_PROJECT_OF_TASK, {"task_id": task_id, "owner_id": owner_id})).first()
        return None if row is None else TaskRef(project_id=row[0], title=row[1])

    async def project_of(self, task_id: UUID, owner_id: UUID) -> UUID | None:
        found = await self.find(task_id, owner_id)
        return None if found is None else found.project_id
