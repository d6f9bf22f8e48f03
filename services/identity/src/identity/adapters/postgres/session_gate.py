"""The per-request check that a token's session and account are still good.

Signatures prove a token was issued; they cannot prove it was not revoked since.
identity, which owns the sessions, checks that too on every authenticated request:
logout, deactivation and a password change take effect at once, not when the
access token expires.

It is the hottest statement identity runs, so it runs on the raw asyncpg read pool
(``shared.db.pool``): compiled once, no transaction, no reset on release.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

import asyncpg
import sqlalchemy as sa

from identity.adapters.postgres.tables import sessions, users
from identity.adapters.postgres.users import SELECT_USER, user_from_row
from identity.domain.users import User
from shared.db.pool import CompiledQuery

# Two primary-key probes joined in one statement: one round trip answers both "is the
# session live?" and "what is the account now?".
LIVE_ACCOUNT: Final = CompiledQuery.of(
    SELECT_USER.select_from(sessions.join(users, users.c.id == sessions.c.user_id)).where(
        sessions.c.id == sa.bindparam("session_id"),
        sessions.c.user_id == sa.bindparam("user_id"),
        sessions.c.revoked_at.is_(None),
        sessions.c.absolute_expires_at > sa.func.now(),
        users.c.is_active.is_(True),
    )
)


class AsyncpgSessionGate:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def live_account(self, session_id: UUID, user_id: UUID) -> User | None:
        record = await LIVE_ACCOUNT.fetchrow(self._pool, session_id=session_id, user_id=user_id)
        return None if record is None else user_from_row(record)
