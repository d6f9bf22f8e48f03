"""Sessions and their refresh tokens in PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from identity.adapters.postgres.tables import refresh_tokens, sessions
from identity.domain.events import DomainEvent
from identity.domain.sessions import BulkRevocation, RefreshToken, RevokeReason, Session
from shared.kernel.aggregate import Seen
from shared.kernel.clock import Clock

_COLUMNS = (
    sessions.c.id,
    sessions.c.user_id,
    sessions.c.created_at,
    sessions.c.last_used_at,
    sessions.c.user_agent,
    sessions.c.ip,
    sessions.c.absolute_expires_at,
    sessions.c.idle_timeout_s,
    sessions.c.revoked_at,
    sessions.c.revoke_reason,
)
SELECT_SESSION = sa.select(*_COLUMNS)
_BY_ID = SELECT_SESSION.where(sessions.c.id == sa.bindparam("id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_UPDATE = (
    sessions.update()
    .where(sessions.c.id == sa.bindparam("key"))
    .values({c.name: sa.bindparam(c.name) for c in _COLUMNS if c.name not in {"id", "user_id", "created_at"}})
)
_REVOKE_ALL = (
    sessions.update()
    .where(
        sessions.c.user_id == sa.bindparam("b_user_id"),
        sessions.c.revoked_at.is_(None),
        sessions.c.id.is_distinct_from(sa.bindparam("keep")),
    )
    .values(revoked_at=sa.bindparam("now"), revoke_reason=sa.bindparam("reason"))
    .returning(sessions.c.id)
)
_ENDED = sa.or_(
    sessions.c.absolute_expires_at <= sa.bindparam("now"),
    sessions.c.last_used_at + sa.func.make_interval(0, 0, 0, 0, 0, 0, sessions.c.idle_timeout_s)
    <= sa.bindparam("now"),
)
_DELETE_ENDED = sessions.delete().where(sessions.c.user_id == sa.bindparam("b_user_id"), _ENDED)
_REVOKE_BEYOND = (
    sessions.update()
    .where(
        sessions.c.id.in_(
            sa.select(sessions.c.id)
            .where(sessions.c.user_id == sa.bindparam("b_user_id"), sessions.c.revoked_at.is_(None))
            .order_by(sessions.c.last_used_at.desc(), sessions.c.id.desc())
            .offset(sa.bindparam("keep"))
            .scalar_subquery()
        )
    )
    .values(revoked_at=sa.bindparam("now"), revoke_reason=sa.bindparam("reason"))
    .returning(sessions.c.id)
)
PURGE_BATCH = 1000
# Every user's ended sessions (their refresh tokens go with them: ON DELETE CASCADE), a batch at
# a time; SKIP LOCKED lets several workers purge side by side.
_PURGE_ENDED = sessions.delete().where(
    sessions.c.id.in_(
        sa.select(sessions.c.id)
        .where(_ENDED)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
)
# The conditional UPDATE is the lock: concurrent spenders of one digest queue on its row, and
# each one after the first finds spent_at set and matches nothing.
_SPEND = (
    refresh_tokens.update()
    .where(refresh_tokens.c.digest == sa.bindparam("b_digest"), refresh_tokens.c.spent_at.is_(None))
    .values(spent_at=sa.bindparam("now"))
    .returning(refresh_tokens.c.session_id)
)
_FIND_TOKEN = sa.select(
    refresh_tokens.c.digest,
    refresh_tokens.c.session_id,
    refresh_tokens.c.issued_at,
    refresh_tokens.c.spent_at,
).where(refresh_tokens.c.digest == sa.bindparam("digest"))


def session_from_row(row: Any) -> Session:
    return Session(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        user_agent=row.user_agent,
        ip=row.ip,
        absolute_expires_at=row.absolute_expires_at,
        idle_timeout=timedelta(seconds=row.idle_timeout_s),
        revoked_at=row.revoked_at,
        revoke_reason=None if row.revoke_reason is None else RevokeReason(row.revoke_reason),
    )


def _values(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "user_id": session.user_id,
        "created_at": session.created_at,
        "last_used_at": session.last_used_at,
        "user_agent": session.user_agent,
        "ip": session.ip,
        "absolute_expires_at": session.absolute_expires_at,
        "idle_timeout_s": int(session.idle_timeout.total_seconds()),
        "revoked_at": session.revoked_at,
        "revoke_reason": None if session.revoke_reason is None else session.revoke_reason.value,
    }


class SqlAlchemySessionRepository:
    """Every session it loads or adds, and every bulk revocation it makes, joins ``seen``: their
    events (the revocations) go out when the unit of work commits."""

    def __init__(self, conn: AsyncConnection, seen: Seen[DomainEvent]) -> None:
        self._conn = conn
        self._seen = seen

    async def add(self, session: Session) -> None:
        await self._conn.execute(sessions.insert(), _values(session))
        self._seen.add(session)

    async def get(self, session_id: UUID, *, for_update: bool = False) -> Session | None:
        statement = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        row = (await self._conn.execute(statement, {"id": session_id})).first()
        if row is None:
            return None
        session = session_from_row(row)
        self._seen.add(session)
        return session

    async def update(self, session: Session) -> None:
        values = _values(session)
        values["key"] = values.pop("id")
        del values["user_id"], values["created_at"]
        await self._conn.execute(_UPDATE, values)

    async def revoke_all(
        self, user_id: UUID, *, now: datetime, reason: RevokeReason, keep: UUID | None = None
    ) -> int:
        values = {"b_user_id": user_id, "keep": keep, "now": now, "reason": reason.value}
        return await self._revoke(_REVOKE_ALL, values, user_id, reason, now)

    async def revoke_beyond(self, user_id: UUID, keep: int, *, now: datetime, reason: RevokeReason) -> int:
        values = {"b_user_id": user_id, "keep": keep, "now": now, "reason": reason.value}
        return await self._revoke(_REVOKE_BEYOND, values, user_id, reason, now)

    async def _revoke(
        self, statement: Any, values: dict[str, Any], user_id: UUID, reason: RevokeReason, now: datetime
    ) -> int:
        revoked = (await self._conn.execute(statement, values)).scalars().all()
        self._seen.add(BulkRevocation.of(user_id, revoked, reason=reason, now=now))
        return len(revoked)

    async def delete_ended(self, user_id: UUID, now: datetime) -> int:
        return (await self._conn.execute(_DELETE_ENDED, {"b_user_id": user_id, "now": now})).rowcount


class SqlAlchemyRefreshTokenRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, token: RefreshToken) -> None:
        await self._conn.execute(
            refresh_tokens.insert(),
            {
                "digest": token.digest,
                "session_id": token.session_id,
                "issued_at": token.issued_at,
                "spent_at": token.spent_at,
            },
        )

    async def spend(self, digest: bytes, now: datetime) -> UUID | None:
        row = (await self._conn.execute(_SPEND, {"b_digest": digest, "now": now})).first()
        return None if row is None else row.session_id

    async def find(self, digest: bytes) -> RefreshToken | None:
        row = (await self._conn.execute(_FIND_TOKEN, {"digest": digest})).first()
        if row is None:
            return None
        return RefreshToken(
            digest=row.digest, session_id=row.session_id, issued_at=row.issued_at, spent_at=row.spent_at
        )


async def purge_ended_sessions(engine: AsyncEngine, clock: Clock) -> int:
    """Delete every session that can no longer be refreshed (a worker chore).

    Users who log in again have theirs deleted then; this catches the ones who never do.
    An ended session's refresh token is refused just the same once it is gone.
    """
    purged = 0
    while True:
        async with engine.begin() as conn:
            deleted = (await conn.execute(_PURGE_ENDED, {"now": clock.now()})).rowcount
        purged += deleted
        if deleted < PURGE_BATCH:
            return purged
