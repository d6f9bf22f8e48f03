"""The board's tasks in PostgreSQL (SQLAlchemy Core constants, compiled once; rows mapped explicitly).

Ordering keys come from ``fractional-indexing`` (Rocicorp's algorithm, as Figma and Linear
order lists): a key between two neighbours, so placing a task never rewrites another row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, cast
from uuid import UUID

import sqlalchemy as sa
from fractional_indexing import FIError, generate_key_between, generate_n_keys_between  # type: ignore[import-untyped]
from sqlalchemy.dialects.postgresql import UUID as UUID_TYPE
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.adapters.postgres.tables import projects, task_activity, tasks
from orchestrator.domain.board import Card
from orchestrator.domain.events import Recorded
from orchestrator.domain.tasks import COLUMNS, Activity, Priority, Task, TaskStatus
from shared.kernel.aggregate import Seen

_NOBODY: Final = UUID(int=0)
"""``moving`` when no task is being moved: an id no task has."""

_WITH_PROJECT = sa.select(*tasks.c, projects.c.owner_id, projects.c.status.label("project_status")).join(
    projects, projects.c.id == tasks.c.project_id
)
_GET = _WITH_PROJECT.where(tasks.c.id == sa.bindparam("id"), projects.c.owner_id == sa.bindparam("owner_id"))
# The task's row for the write, and its project's against an archive meanwhile (the archive's
# FOR UPDATE waits for it, or it waits and then sees the project archived). The activity row's
# foreign key takes this same KEY SHARE lock on the project anyway: it costs nothing more here.
_GET_FOR_UPDATE = _GET.with_for_update(of=tasks).suffix_with("FOR KEY SHARE OF projects")
CARD_COLUMNS: Final = (
    tasks.c.id,
    tasks.c.title,
    tasks.c.status,
    tasks.c.priority,
    tasks.c.position,
    tasks.c.dependencies,
    tasks.c.version,
    tasks.c.updated_at,
)
# served by tasks_board_idx (project_id, status, position)
_BOARD = (
    sa.select(*CARD_COLUMNS)
    .where(tasks.c.project_id == sa.bindparam("project_id"))
    .order_by(tasks.c.status, tasks.c.position, tasks.c.id)
)
_COUNT = sa.select(sa.func.count()).select_from(tasks).where(tasks.c.project_id == sa.bindparam("project_id"))

_in_column = (tasks.c.project_id == sa.bindparam("project_id"), tasks.c.status == sa.bindparam("status"))
_others = tasks.c.id != sa.bindparam("moving")
_LAST = sa.select(sa.func.max(tasks.c.position)).where(*_in_column, _others)
_n = tasks.alias("n")
_neighbour = (
    _n.c.id == sa.bindparam("neighbour"),
    _n.c.project_id == sa.bindparam("project_id"),
    _n.c.status == sa.bindparam("status"),
)
# the neighbour's key and the next key after it (or before it), in one round trip
_AFTER = sa.select(
    _n.c.position,
    sa.select(sa.func.min(tasks.c.position))
    .where(*_in_column, _others, tasks.c.position > _n.c.position)
    .scalar_subquery(),
).where(*_neighbour)
_BEFORE = sa.select(
    sa.select(sa.func.max(tasks.c.position))
    .where(*_in_column, _others, tasks.c.position < _n.c.position)
    .scalar_subquery(),
    _n.c.position,
).where(*_neighbour)
_BOTH = sa.select(tasks.c.id, tasks.c.position).where(
    tasks.c.id.in_(sa.bindparam("ids", expanding=True)), *_in_column
)

_INSERT = tasks.insert()
_UPDATE = (
    tasks.update()
    .where(tasks.c.id == sa.bindparam("key"))
    .values(
        {c.name: sa.bindparam(c.name) for c in tasks.c if c.name not in ("id", "project_id", "created_at")}
    )
)
# the tasks of a project that depend on one task (the board index narrows to the project)
_DEPENDENTS = _WITH_PROJECT.with_for_update(of=tasks).where(
    tasks.c.project_id == sa.bindparam("in_project"),
    sa.bindparam("depends_on", type_=UUID_TYPE) == sa.any_(tasks.c.dependencies),
)
_DELETE = tasks.delete().where(tasks.c.id == sa.bindparam("task_id"))
_INSERT_ACTIVITY = task_activity.insert()
_ACTIVITY = (
    sa.select(*task_activity.c)
    .where(task_activity.c.task_id == sa.bindparam("task_id"))
    .order_by(task_activity.c.id.desc())
    .limit(sa.bindparam("limit"))
)
_ACTIVITY_BEFORE = _ACTIVITY.where(task_activity.c.id < sa.bindparam("before_id"))


def key_between(lower: str | None, upper: str | None) -> str | None:
    """A key sorting strictly between ``lower`` and ``upper`` (open ends: ``None``), or ``None``
    when none can (``lower`` is not below ``upper``)."""
    try:
        return cast(str, generate_key_between(lower, upper))
    except FIError:
        return None


def keys_between(lower: str | None, upper: str | None, count: int) -> list[str]:
    return cast(list[str], generate_n_keys_between(lower, upper, count))


def task_from_row(row: Mapping[Any, Any]) -> Task:
    return Task(
        id=row["id"],
        project_id=row["project_id"],
        owner_id=row["owner_id"],
        title=row["title"],
        description=row["description"],
        details=row["details"],
        test_strategy=row["test_strategy"],
        status=cast(TaskStatus, row["status"]),
        priority=cast(Priority, row["priority"]),
        position=row["position"],
        dependencies=tuple(row["dependencies"]),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        project_archived=row["project_status"] == "archived",
    )


def card_from_row(row: Any) -> Card:
    return Card(
        id=row[0],
        title=row[1],
        status=row[2],
        priority=row[3],
        position=row[4],
        dependencies=tuple(row[5]),
        version=row[6],
        updated_at=row[7],
    )


def _values(task: Task) -> dict[str, Any]:
    values = {c.name: getattr(task, c.name) for c in tasks.c}
    values["dependencies"] = list(task.dependencies)
    return values


def _activity_values(entry: Activity) -> dict[str, Any]:
    return {
        "id": entry.id,
        "task_id": entry.task_id,
        "project_id": entry.project_id,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "field": entry.field,
        "old_value": entry.old,
        "new_value": entry.new,
        "occurred_at": entry.occurred_at,
    }


def _activity(row: Mapping[Any, Any]) -> Activity:
    return Activity(
        id=row["id"],
        task_id=row["task_id"],
        project_id=row["project_id"],
        actor_id=row["actor_id"],
        action=row["action"],
        field=row["field"],
        old=row["old_value"],
        new=row["new_value"],
        occurred_at=row["occurred_at"],
    )


class SqlAlchemyTaskRepository:
    """Every task it loads or adds joins ``seen``: its events go out when the unit of work commits."""

    def __init__(self, conn: AsyncConnection, seen: Seen[Recorded]) -> None:
        self._conn = conn
        self._seen = seen

    async def get(self, task_id: UUID, owner_id: UUID, *, for_update: bool = False) -> Task | None:
        statement = _GET_FOR_UPDATE if for_update else _GET
        row = (await self._conn.execute(statement, {"id": task_id, "owner_id": owner_id})).first()
        if row is None:
            return None
        task = task_from_row(row._mapping)
        self._seen.add(task)
        return task

    async def board(self, project_id: UUID) -> Sequence[Card]:
        rows = (await self._conn.execute(_BOARD, {"project_id": project_id})).all()
        # the query sorts columns by name; the board's order is left to right
        by_column: dict[str, list[Card]] = {status: [] for status in COLUMNS}
        for row in rows:
            by_column[row[2]].append(card_from_row(row))
        return [card for column in by_column.values() for card in column]

    async def count(self, project_id: UUID) -> int:
        return int((await self._conn.execute(_COUNT, {"project_id": project_id})).scalar_one())

    async def key_between(
        self,
        project_id: UUID,
        status: TaskStatus,
        *,
        after: UUID | None = None,
        before: UUID | None = None,
        moving: UUID | None = None,
    ) -> str | None:
        params: dict[str, Any] = {"project_id": project_id, "status": status, "moving": moving or _NOBODY}
        if after is None and before is None:
            return key_between((await self._conn.execute(_LAST, params)).scalar(), None)
        if after is not None and before is not None:
            rows = dict((await self._conn.execute(_BOTH, {**params, "ids": [after, before]})).all())
            if len(rows) != 2:
                return None
            if rows[after] != rows[before]:
                return key_between(rows[after], rows[before])
            # two tasks moved into one gap at once share a key: none fits between, so right after both
            before = None
        statement = _AFTER if after is not None else _BEFORE
        row = (await self._conn.execute(statement, {**params, "neighbour": after or before})).first()
        return None if row is None else key_between(row[0], row[1])

    async def keys_at_end(self, project_id: UUID, status: TaskStatus, count: int) -> list[str]:
        params = {"project_id": project_id, "status": status, "moving": _NOBODY}
        return keys_between((await self._conn.execute(_LAST, params)).scalar(), None, count)

    async def add(self, task: Task) -> None:
        await self.add_many([task])

    async def add_many(self, tasks_: Sequence[Task]) -> None:
        await self._conn.execute(_INSERT, [_values(task) for task in tasks_])
        for task in tasks_:
            self._seen.add(task)
        await self._write_activity(tasks_)

    async def dependents(self, task: Task) -> Sequence[Task]:
        params = {"in_project": task.project_id, "depends_on": task.id}
        found = [task_from_row(row._mapping) for row in await self._conn.execute(_DEPENDENTS, params)]
        for dependent in found:
            self._seen.add(dependent)
        return found

    async def update(self, task: Task) -> None:
        await self.update_many([task])

    async def update_many(self, tasks_: Sequence[Task]) -> None:
        if not tasks_:
            return
        rows = []
        for task in tasks_:
            values = _values(task)
            values["key"] = values.pop("id")
            del values["project_id"], values["created_at"]
            rows.append(values)
        # one row as one statement: an executemany of one costs more on the hot path of a move
        await self._conn.execute(_UPDATE, rows[0] if len(rows) == 1 else rows)
        await self._write_activity(tasks_)

    async def delete(self, task: Task) -> None:
        await self._conn.execute(_DELETE, {"task_id": task.id})

    async def activity(self, task_id: UUID, *, before_id: UUID | None, limit: int) -> Sequence[Activity]:
        if before_id is None:
            result = await self._conn.execute(_ACTIVITY, {"task_id": task_id, "limit": limit})
        else:
            result = await self._conn.execute(
                _ACTIVITY_BEFORE, {"task_id": task_id, "limit": limit, "before_id": before_id}
            )
        return [_activity(row._mapping) for row in result]

    async def _write_activity(self, written: Sequence[Task]) -> None:
        entries = [entry for task in written for entry in task.activity]
        if entries:
            rows = [_activity_values(entry) for entry in entries]
            await self._conn.execute(_INSERT_ACTIVITY, rows[0] if len(rows) == 1 else rows)
        for task in written:
            task.activity.clear()
