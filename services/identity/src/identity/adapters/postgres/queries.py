"""identity's reads, outside any transaction: one statement, one round trip each.

The engine given is switched to autocommit, so no BEGIN/ROLLBACK wraps a lone SELECT
(DESIGN.md's performance budget); it shares the pool of the engine it came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from identity.adapters.postgres.audit import SELECT_ENTRY, entry_from_row
from identity.adapters.postgres.sessions import SELECT_SESSION, session_from_row
from identity.adapters.postgres.tables import audit_entries, sessions, users
from identity.adapters.postgres.users import SELECT_USER, user_from_row
from identity.domain.audit import AuditEntry
from identity.domain.emails import canonical_email
from identity.domain.sessions import Session
from identity.domain.users import Role, User

_USER = SELECT_USER.where(users.c.id == sa.bindparam("id"))
_LIVE_SESSIONS = SELECT_SESSION.where(
    sessions.c.user_id == sa.bindparam("user_id"),
    sessions.c.revoked_at.is_(None),
    sessions.c.absolute_expires_at > sa.bindparam("now"),
    sessions.c.last_used_at + sa.func.make_interval(0, 0, 0, 0, 0, 0, sessions.c.idle_timeout_s)
    > sa.bindparam("now"),
).order_by(sessions.c.created_at.desc(), sessions.c.id.desc())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    return engine.execution_options(isolation_level="AUTOCOMMIT")


class SqlAlchemyQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = autocommit(engine)

    async def user(self, user_id: UUID) -> User | None:
        row = (await self._execute(_USER, {"id": user_id})).first()
        return None if row is None else user_from_row(row._mapping)

    async def active_sessions(self, user_id: UUID, now: datetime) -> list[Session]:
        rows = await self._execute(_LIVE_SESSIONS, {"user_id": user_id, "now": now})
        return [session_from_row(row) for row in rows]

    async def users(self, *, q: str | None, role: Role | None, after: UUID | None, limit: int) -> list[User]:
        # UUIDv7 ids sort by creation time: the id alone is a stable keyset.
        statement = SELECT_USER.order_by(users.c.id).limit(limit)
        if q:
            # An address is searched in its canonical form (as accounts are matched), a name as typed.
            in_email = f"%{_escape_like(canonical_email(q))}%"
            in_name = f"%{_escape_like(q)}%"
            statement = statement.where(
                sa.or_(
                    users.c.email_canonical.like(in_email, escape="\\"),
                    users.c.name.ilike(in_name, escape="\\"),
                )
            )
        if role is not None:
            statement = statement.where(users.c.role == role)
        if after is not None:
            statement = statement.where(users.c.id > after)
        return [user_from_row(row._mapping) for row in await self._execute(statement, {})]

    async def audit(
        self, *, user_id: UUID | None, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[AuditEntry]:
        statement = SELECT_ENTRY.order_by(audit_entries.c.at.desc(), audit_entries.c.id.desc()).limit(limit)
        if user_id is not None:
            statement = statement.where(audit_entries.c.user_id == user_id)
        if before is not None:
            statement = statement.where(
                sa.tuple_(audit_entries.c.at, audit_entries.c.id) < sa.tuple_(*before)
            )
        return [entry_from_row(row) for row in await self._execute(statement, {})]

    async def _execute(self, statement: sa.Executable, params: dict[str, Any]) -> sa.CursorResult[Any]:
        async with self._engine.connect() as conn:
            return await conn.execute(statement, params)
