"""Interviews in PostgreSQL (SQLAlchemy Core; the transcript and assessment as jsonb).

The transcript is read and written whole with its interview: it is short (a few dozen
messages at most), always needed whole by the model, and a row lock orders its writers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.adapters.postgres.tables import interviews, projects
from orchestrator.domain.events import Recorded
from orchestrator.domain.interviews import (
    Assessment,
    ConversationMessage,
    Interview,
    InterviewStatus,
    Speaker,
)
from shared.kernel.aggregate import Seen

_COLUMNS = tuple(interviews.c)
_OWNED = interviews.join(projects, projects.c.id == interviews.c.project_id)
_BY_ID = (
    sa.select(*_COLUMNS, projects.c.owner_id)
    .select_from(_OWNED)
    .where(interviews.c.id == sa.bindparam("id"), projects.c.owner_id == sa.bindparam("owner_id"))
)
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update(of=interviews)
_LIST = (
    sa.select(*_COLUMNS, projects.c.owner_id)
    .select_from(_OWNED)
    .where(interviews.c.project_id == sa.bindparam("project_id"), interviews.c.id < sa.bindparam("before"))
    .order_by(interviews.c.id.desc())
    .limit(sa.bindparam("limit"))
)
_INSERT = interviews.insert()
_UPDATE = (
    interviews.update()
    .where(interviews.c.id == sa.bindparam("key"))
    .values(
        {c.name: sa.bindparam(c.name) for c in _COLUMNS if c.name not in ("id", "project_id", "created_at")}
    )
)
_DELETE = interviews.delete().where(interviews.c.id == sa.bindparam("id"))
_MAX_UUID = UUID(int=(1 << 128) - 1)


class _Message(msgspec.Struct, frozen=True):
    role: str
    content: str
    created_at: datetime


class _Assessment(msgspec.Struct, frozen=True):
    covered_areas: list[str]
    open_questions: list[str]
    summary: str
    complete: bool


def _transcript(raw: Any) -> list[ConversationMessage]:
    # jsonb comes back as Python objects: msgspec converts (and checks) them in one pass
    return [
        ConversationMessage(role=cast(Speaker, m.role), content=m.content, created_at=m.created_at)
        for m in msgspec.convert(raw, list[_Message])
    ]


def _assessment(raw: Any) -> Assessment | None:
    if raw is None:
        return None
    a = msgspec.convert(raw, _Assessment)
    return Assessment(
        covered_areas=tuple(a.covered_areas),
        open_questions=tuple(a.open_questions),
        summary=a.summary,
        complete=a.complete,
    )


def interview_from_row(row: Mapping[Any, Any]) -> Interview:
    return Interview(
        id=row["id"],
        project_id=row["project_id"],
        owner_id=row["owner_id"],
        topic=row["topic"],
        goal=row["goal"],
        status=cast(InterviewStatus, row["status"]),
        transcript=_transcript(row["transcript"]),
        assessment=_assessment(row["assessment"]),
        model=row["model"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        completed_at=row["completed_at"],
    )


def _values(interview: Interview) -> dict[str, Any]:
    values = {c.name: getattr(interview, c.name) for c in _COLUMNS}
    # to_builtins turns dataclasses, tuples and datetimes into what the jsonb codec takes
    values["transcript"] = msgspec.to_builtins(interview.transcript)
    values["assessment"] = None if interview.assessment is None else msgspec.to_builtins(interview.assessment)
    return values


class SqlAlchemyInterviewRepository:
    """Every interview it loads or adds joins ``seen``: its events go out when the unit of work commits."""

    def __init__(self, conn: AsyncConnection, seen: Seen[Recorded]) -> None:
        self._conn = conn
        self._seen = seen

    async def get(self, interview_id: UUID, owner_id: UUID, *, for_update: bool = False) -> Interview | None:
        statement = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        row = (await self._conn.execute(statement, {"id": interview_id, "owner_id": owner_id})).first()
        if row is None:
            return None
        interview = interview_from_row(row._mapping)
        self._seen.add(interview)
        return interview

    async def list(self, project_id: UUID, *, before_id: UUID | None, limit: int) -> Sequence[Interview]:
        params = {"project_id": project_id, "before": before_id or _MAX_UUID, "limit": limit}
        return [interview_from_row(row._mapping) for row in await self._conn.execute(_LIST, params)]

    async def add(self, interview: Interview) -> None:
        await self._conn.execute(_INSERT, _values(interview))
        self._seen.add(interview)

    async def update(self, interview: Interview) -> None:
        values = _values(interview)
        values["key"] = values.pop("id")
        del values["project_id"], values["created_at"]
        await self._conn.execute(_UPDATE, values)

    async def delete(self, interview_id: UUID) -> None:
        await self._conn.execute(_DELETE, {"id": interview_id})
