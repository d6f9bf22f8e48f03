"""Password-reset and email-verification tokens in PostgreSQL (by digest only)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID as PyUUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from identity.adapters.postgres.tables import one_time_tokens as tokens
from identity.domain.emails import canonical_email
from identity.domain.one_time_tokens import OneTimeToken, TokenPurpose

_COLUMNS = (
    tokens.c.digest,
    tokens.c.purpose,
    tokens.c.user_id,
    tokens.c.created_at,
    tokens.c.expires_at,
    tokens.c.used_at,
)
_FIND = sa.select(*_COLUMNS).where(
    tokens.c.digest == sa.bindparam("digest"), tokens.c.purpose == sa.bindparam("purpose")
)
# Single use even under concurrency: the second of two racing confirmations matches nothing.
_CONSUME = (
    tokens.update()
    .where(
        tokens.c.digest == sa.bindparam("b_digest"),
        tokens.c.purpose == sa.bindparam("b_purpose"),
        tokens.c.used_at.is_(None),
        tokens.c.expires_at > sa.bindparam("now"),
    )
    .values(used_at=sa.bindparam("now"))
    .returning(*_COLUMNS)
)
_DISCARD = tokens.delete().where(
    tokens.c.user_id == sa.bindparam("user_id"), tokens.c.purpose == sa.bindparam("purpose")
)


def _token(row: Any) -> OneTimeToken:
    return OneTimeToken(
        digest=row.digest,
        purpose=TokenPurpose(row.purpose),
        user_id=row.user_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


# One statement whatever the address: find the active account, drop its older tokens of the
# purpose, insert the new one, and answer the account. With no account every step is empty.
_ISSUE_FOR_ADDRESS = sa.text(
    """
    WITH account AS (
        SELECT id, email FROM users WHERE email_canonical = :email_canonical AND is_active
    ), dropped AS (
        DELETE FROM one_time_tokens
        WHERE purpose = :purpose AND user_id IN (SELECT id FROM account)
    ), issued AS (
        INSERT INTO one_time_tokens (digest, purpose, user_id, created_at, expires_at)
        SELECT :digest, :purpose, id, :now, :expires_at FROM account
        RETURNING user_id
    )
    SELECT account.id, account.email FROM account JOIN issued ON issued.user_id = account.id
    """
).columns(id=UUID(as_uuid=True), email=sa.Text)


class SqlAlchemyOneTimeTokenRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, token: OneTimeToken) -> None:
        await self._conn.execute(
            tokens.insert(),
            {
                "digest": token.digest,
                "purpose": token.purpose.value,
                "user_id": token.user_id,
                "created_at": token.created_at,
                "expires_at": token.expires_at,
                "used_at": token.used_at,
            },
        )

    async def find(self, digest: bytes, purpose: TokenPurpose) -> OneTimeToken | None:
        row = (await self._conn.execute(_FIND, {"digest": digest, "purpose": purpose.value})).first()
        return None if row is None else _token(row)

    async def consume(self, digest: bytes, purpose: TokenPurpose, now: datetime) -> OneTimeToken | None:
        row = (
            await self._conn.execute(_CONSUME, {"b_digest": digest, "b_purpose": purpose.value, "now": now})
        ).first()
        return None if row is None else _token(row)

    async def discard(self, user_id: PyUUID, purpose: TokenPurpose) -> None:
        await self._conn.execute(_DISCARD, {"user_id": user_id, "purpose": purpose.value})

    async def issue_for_address(
        self, email: str, *, purpose: TokenPurpose, digest: bytes, now: datetime, ttl: timedelta
    ) -> tuple[PyUUID, str] | None:
        params = {
            "email_canonical": canonical_email(email),
            "purpose": purpose.value,
            "digest": digest,
            "now": now,
            "expires_at": now + ttl,
        }
        row = (await self._conn.execute(_ISSUE_FOR_ADDRESS, params)).first()
        return None if row is None else (row.id, row.email)
