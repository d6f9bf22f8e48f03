"""Token pairs: what a login (by password or OIDC) and a refresh hand to the client."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from identity.application.ports import AccessTokenIssuer, SecretTokens, UnitOfWork
from identity.domain.sessions import ClientInfo, RefreshToken, RevokeReason, Session, SessionLifetime
from identity.domain.users import User


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    """The access token's lifetime in seconds."""
    session_id: UUID


async def open_session(
    uow: UnitOfWork,
    *,
    user: User,
    client: ClientInfo,
    now: datetime,
    secrets: SecretTokens,
    access_tokens: AccessTokenIssuer,
    lifetime: SessionLifetime,
    max_sessions: int,
) -> TokenPair:
    """Start a session (a new refresh-token family) for ``user`` and issue its first pair.

    The user's sessions that have ended go now: each refresh leaves a spent token behind, and
    this keeps them from piling up between the worker's purges. At most
    ``max_sessions`` stay live: the least recently used beyond them are revoked.
    """
    await uow.sessions.delete_ended(user.id, now)
    await uow.sessions.revoke_beyond(user.id, max_sessions - 1, now=now, reason=RevokeReason.SESSION_LIMIT)
    session = Session.start(user_id=user.id, now=now, lifetime=lifetime, client=client)
    await uow.sessions.add(session)
    return await next_pair(
        uow, session=session, user=user, now=now, secrets=secrets, access_tokens=access_tokens
    )


async def next_pair(
    uow: UnitOfWork,
    *,
    session: Session,
    user: User,
    now: datetime,
    secrets: SecretTokens,
    access_tokens: AccessTokenIssuer,
) -> TokenPair:
    """The next refresh token of the session's chain (only its digest is stored) and an access token."""
    secret = secrets.new()
    await uow.refresh_tokens.add(RefreshToken(digest=secret.digest, session_id=session.id, issued_at=now))
    access = access_tokens.issue(user_id=user.id, role=user.role, session_id=session.id, now=now)
    return TokenPair(
        access_token=access.token,
        refresh_token=secret.plaintext,
        expires_in=access.expires_in,
        session_id=session.id,
    )
