"""OIDC links and pending OIDC logins in PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from identity.adapters.postgres.tables import oidc_links, pending_oidc_logins
from identity.application.oidc import PendingLogin
from identity.domain.oidc_links import OidcLink

_GET_LINK = sa.select(oidc_links.c.user_id, oidc_links.c.created_at).where(
    oidc_links.c.provider == sa.bindparam("provider"), oidc_links.c.subject == sa.bindparam("subject")
)
pending = pending_oidc_logins
# DELETE ... RETURNING: the state is taken by exactly one callback, however many race for it.
_TAKE = (
    pending.delete()
    .where(pending.c.state == sa.bindparam("state"), pending.c.expires_at > sa.bindparam("now"))
    .returning(
        pending.c.state,
        pending.c.provider,
        pending.c.nonce,
        pending.c.code_verifier,
        pending.c.redirect_uri,
        pending.c.created_at,
    )
)
_PRUNE = pending.delete().where(pending.c.expires_at <= sa.bindparam("now"))


class SqlAlchemyOidcLinkRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, provider: str, subject: str) -> OidcLink | None:
        row = (await self._conn.execute(_GET_LINK, {"provider": provider, "subject": subject})).first()
        if row is None:
            return None
        return OidcLink(provider=provider, subject=subject, user_id=row.user_id, created_at=row.created_at)

    async def add(self, link: OidcLink) -> None:
        await self._conn.execute(
            oidc_links.insert(),
            {
                "provider": link.provider,
                "subject": link.subject,
                "user_id": link.user_id,
                "created_at": link.created_at,
            },
        )


class SqlAlchemyPendingLoginRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, login: PendingLogin, *, expires_at: datetime) -> None:
        await self._conn.execute(
            pending.insert(),
            {
                "state": login.state,
                "provider": login.provider,
                "nonce": login.nonce,
                "code_verifier": login.code_verifier,
                "redirect_uri": login.redirect_uri,
                "created_at": login.created_at,
                "expires_at": expires_at,
            },
        )

    async def take(self, state: str, now: datetime) -> PendingLogin | None:
        row = (await self._conn.execute(_TAKE, {"state": state, "now": now})).first()
        if row is None:
            return None
        return PendingLogin(
            provider=row.provider,
            state=row.state,
            nonce=row.nonce,
            code_verifier=row.code_verifier,
            redirect_uri=row.redirect_uri,
            created_at=row.created_at,
        )

    async def prune(self, now: datetime) -> int:
        return (await self._conn.execute(_PRUNE, {"now": now})).rowcount
