"""Use cases: rotate a refresh token; log out with one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from identity.application.errors import InvalidRefreshToken
from identity.application.ports import AccessTokenIssuer, Clock, SecretTokens, UnitOfWork
from identity.application.tokens import TokenPair, next_pair
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.sessions import ClientInfo, RevokeReason


@dataclass(frozen=True, slots=True, kw_only=True)
class Refresh:
    refresh_token: str = field(repr=False)
    client: ClientInfo = field(default_factory=ClientInfo)


@dataclass(frozen=True, slots=True, kw_only=True)
class LogOut:
    refresh_token: str = field(repr=False)
    client: ClientInfo = field(default_factory=ClientInfo)


async def refresh(
    cmd: Refresh, uow: UnitOfWork, *, secrets: SecretTokens, access_tokens: AccessTokenIssuer, clock: Clock
) -> TokenPair:
    """Spend the presented refresh token and issue the next pair of the same session.

    Rules:
        * A token is spent by its one use, atomically: of any number of concurrent
          refreshes with one token, exactly one succeeds.
        * A spent token presented again is reuse: someone else holds the chain. The whole
          session is revoked (so the newer tokens die too), the reuse is audited, and the
          answer is ``InvalidRefreshToken`` like any other refusal.
        * The session must be neither revoked nor expired (idle or absolute), and the
          account active; otherwise ``InvalidRefreshToken``.
        * A refresh counts as use: the session's idle expiry moves on.
    """
    digest = secrets.digest(cmd.refresh_token)
    now = clock.now()
    async with uow:
        session_id = await uow.refresh_tokens.spend(digest, now)
        if session_id is None:
            await _revoke_on_reuse(uow, digest, cmd.client, now=now)
            raise InvalidRefreshToken
        session = await uow.sessions.get(session_id, for_update=True)
        user = None if session is None else await uow.users.get(session.user_id)
        if session is None or user is None or not session.is_active(now) or not user.is_active:
            raise InvalidRefreshToken
        session.touch(now, cmd.client)
        await uow.sessions.update(session)
        pair = await next_pair(
            uow, session=session, user=user, now=now, secrets=secrets, access_tokens=access_tokens
        )
        await uow.commit()
    return pair


async def log_out(cmd: LogOut, uow: UnitOfWork, *, secrets: SecretTokens, clock: Clock) -> None:
    """Revoke the session the refresh token belongs to (spent or not).

    Rules: idempotent, and silent about unknown tokens, as OAuth token revocation is
    (RFC 7009 §2.2): logging out twice, or with a forgotten token, is not an error.
    """
    digest = secrets.digest(cmd.refresh_token)
    now = clock.now()
    async with uow:
        token = await uow.refresh_tokens.find(digest)
        session = None if token is None else await uow.sessions.get(token.session_id, for_update=True)
        if session is None or not session.revoke(now, RevokeReason.LOGOUT):
            return
        await uow.sessions.update(session)
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.LOGOUT,
                at=now,
                user_id=session.user_id,
                client=cmd.client,
                session_id=str(session.id),
            )
        )
        await uow.commit()


async def _revoke_on_reuse(uow: UnitOfWork, digest: bytes, client: ClientInfo, *, now: datetime) -> None:
    token = await uow.refresh_tokens.find(digest)
    if token is None:
        return  # never issued here: nothing to revoke
    session = await uow.sessions.get(token.session_id, for_update=True)
    # Only the first reuse revokes and is audited; later ones find the session revoked.
    if session is not None and session.revoke(now, RevokeReason.REFRESH_REUSE):
        await uow.sessions.update(session)
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.REFRESH_REUSE_DETECTED,
                at=now,
                user_id=session.user_id,
                client=client,
                session_id=str(session.id),
            )
        )
        await uow.commit()
