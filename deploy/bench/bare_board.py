"""The bare endpoints ``make bench`` compares orchestrator's board read and task move with.

The same SQL statements the orchestrator runs (``adapters/postgres/tasks.py`` and
``projects.py``, as SQLAlchemy compiles them), on a raw asyncpg pool with the release-time
reset disabled, answered with msgspec Structs of the same shape; no token, no unit of work,
no middleware. The owner is a query parameter (orchestrator takes it from the token).

* ``GET /bare/projects/{id}/tasks?owner_id=``: the ownership check and every card in one
  statement (``adapters/postgres/board.py``), no transaction, as the orchestrator reads it.
* ``POST /bare/tasks/{id}/move?owner_id=`` with ``If-Match``: in one transaction, the task row
  locked (``FOR UPDATE OF tasks``), the column's last key, the row rewritten, the activity row
  and the outbox row (the real ``orchestrator.task.moved`` contract, which the orchestrator's
  relay publishes as it publishes its own), answered with the task and its ``ETag``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final
from uuid import UUID

import asyncpg
import msgspec
from fractional_indexing import generate_key_between  # type: ignore[import-untyped]
from litestar import Response, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import Parameter

from shared.contracts.orchestrator import TaskMoved
from shared.kernel.ids import new_id
from shared.messaging.envelope import outgoing

COLUMNS: Final = ("backlog", "todo", "in_progress", "review", "done")

# the project row alone (card columns NULL) when it has no task; no row when it is not the owner's
BOARD: Final = (
    "SELECT tasks.id, tasks.title, tasks.status, tasks.priority, tasks.position, tasks.dependencies,"
    " tasks.version, tasks.updated_at, projects.status AS project_status"
    " FROM projects LEFT OUTER JOIN tasks ON tasks.project_id = projects.id"
    " WHERE projects.id = $1 AND projects.owner_id = $2 ORDER BY tasks.status, tasks.position, tasks.id"
)
TASK_FOR_UPDATE: Final = (
    "SELECT tasks.id, tasks.project_id, tasks.title, tasks.description, tasks.details,"
    " tasks.test_strategy, tasks.status, tasks.priority, tasks.position, tasks.dependencies,"
    " tasks.version, tasks.created_at, tasks.updated_at, projects.owner_id,"
    " projects.status AS project_status FROM tasks JOIN projects ON projects.id = tasks.project_id"
    " WHERE tasks.id = $1 AND projects.owner_id = $2 FOR UPDATE OF tasks FOR KEY SHARE OF projects"
)
LAST_KEY: Final = (
    "SELECT max(tasks.position) FROM tasks"
    " WHERE tasks.project_id = $1 AND tasks.status = $2 AND tasks.id != $3"
)
UPDATE: Final = (
    "UPDATE tasks SET title=$1, description=$2, details=$3, test_strategy=$4, status=$5, priority=$6,"
    " position=$7, dependencies=$8, version=$9, updated_at=$10 WHERE tasks.id = $11"
)
INSERT_ACTIVITY: Final = (
    "INSERT INTO task_activity (id, task_id, project_id, actor_id, action, field, old_value, new_value,"
    " occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)
INSERT_OUTBOX: Final = (
    "INSERT INTO outbox (event_id, subject, event_type, source, occurred_at, subject_id, traceparent,"
    " payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING outbox.id"  # SQLAlchemy fetches the key
)


class Card(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    title: str
    status: str
    priority: str
    position: str
    dependencies: list[UUID]
    blocked: bool
    version: int
    updated_at: datetime


class Column(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    tasks: list[Card]


class Board(msgspec.Struct, frozen=True, kw_only=True):
    project_id: UUID
    archived: bool
    columns: list[Column]


class Move(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Only to a column's end (no neighbours): what the bench's moves ask of both endpoints."""

    status: str


class TaskOut(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    project_id: UUID
    title: str
    description: str
    details: str
    test_strategy: str
    status: str
    priority: str
    position: str
    dependencies: list[UUID]
    version: int
    created_at: datetime
    updated_at: datetime


class Pools:
    """The orchestrator-role pool (search_path ``orchestrator``, as the service's own engine)."""

    orchestrator: asyncpg.Pool | None = None


Owner = Annotated[UUID, Parameter(query="owner_id")]


@get("/bare/projects/{project_id:uuid}/tasks")
async def board(project_id: UUID, owner: Owner) -> Board:
    assert Pools.orchestrator is not None
    rows = await Pools.orchestrator.fetch(BOARD, project_id, owner)
    if not rows:
        raise NotFoundException()
    done = {row[0] for row in rows if row[2] == "done"}
    columns: dict[str, list[Card]] = {column: [] for column in COLUMNS}
    for row in rows:
        if row[0] is None:  # a project without tasks
            continue
        dependencies = row[5]
        columns[row[2]].append(
            Card(
                id=row[0],
                title=row[1],
                status=row[2],
                priority=row[3],
                position=row[4],
                dependencies=dependencies,
                blocked=any(d not in done for d in dependencies),
                version=row[6],
                updated_at=row[7],
            )
        )
    return Board(
        project_id=project_id,
        archived=rows[0][8] == "archived",
        columns=[Column(status=s, tasks=t) for s, t in columns.items()],
    )


@post("/bare/tasks/{task_id:uuid}/move", status_code=200)
async def move(
    task_id: UUID,
    owner: Owner,
    data: Move,
    if_match: Annotated[str | None, Parameter(header="If-Match")] = None,
) -> Response[TaskOut]:
    assert Pools.orchestrator is not None
    expected = int(if_match.strip().strip('"')) if if_match else None
    async with Pools.orchestrator.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(TASK_FOR_UPDATE, task_id, owner)
        if row is None:
            raise NotFoundException()
        if row["project_status"] == "archived":
            raise ClientException(status_code=409, detail="archived")
        if expected is not None and expected != row["version"]:
            raise ClientException(status_code=412, detail="stale")
        last = await conn.fetchval(LAST_KEY, row["project_id"], data.status, task_id)
        position: str = generate_key_between(last, None)
        now, version = datetime.now(UTC), row["version"] + 1
        task = TaskOut(**_task(row, data.status, position, version, now))
        await conn.execute(
            UPDATE,
            task.title,
            task.description,
            task.details,
            task.test_strategy,
            task.status,
            task.priority,
            position,
            task.dependencies,
            version,
            now,
            task_id,
        )
        field, old, new = (
            ("status", row["status"], data.status)
            if data.status != row["status"]
            else ("position", row["position"], position)
        )
        await conn.execute(
            INSERT_ACTIVITY, new_id(), task_id, task.project_id, owner, "moved", field, old, new, now
        )
        event = outgoing(
            TaskMoved(
                event_id=new_id(),
                occurred_at=now,
                task_id=task_id,
                project_id=task.project_id,
                owner_id=owner,
                status=data.status,  # type: ignore[arg-type]
                position=position,
                version=version,
                from_status=row["status"],
            ),
            source="/aiorch/orchestrator",  # OutboxWriter's source, as the service sets it
        )
        await conn.fetchval(
            INSERT_OUTBOX,
            event.event_id,
            event.subject,
            event.event_type,
            event.source,
            event.occurred_at,
            event.subject_id,
            event.traceparent,
            event.payload,
        )
    return Response(task, headers={"ETag": f'"{version}"'})


def _task(row: Any, status: str, position: str, version: int, now: datetime) -> dict[str, Any]:
    return {
        "id": row["id"],
        "project_id": row["project_id"],
        "title": row["title"],
        "description": row["description"],
        "details": row["details"],
        "test_strategy": row["test_strategy"],
        "status": status,
        "priority": row["priority"],
        "position": position,
        "dependencies": row["dependencies"],
        "version": version,
        "created_at": row["created_at"],
        "updated_at": now,
    }
