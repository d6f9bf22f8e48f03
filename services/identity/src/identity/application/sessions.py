"""Use cases: a user's own sessions, listed and revoked."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from identity.application.ports import Clock, Queries, UnitOfWork
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.sessions import ClientInfo, RevokeReason, Session
from shared.kernel.errors import NotFound


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeSession:
    user_id: UUID
    session_id: UUID
    client: ClientInfo = field(default_factory=ClientInfo)


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeOtherSessions:
    user_id: UUID
    current_session_id: UUID
    client: ClientInfo = field(default_factory=ClientInfo)


async def list_sessions(user_id: UUID, *, queries: Queries, clock: Clock) -> list[Session]:
    """The user's sessions that can still be refreshed (not revoked, not expired), newest first."""
    return await queries.active_sessions(user_id, clock.now())


async def revoke_session(cmd: RevokeSession, uow: UnitOfWork, *, clock: Clock) -> None:
    """Revoke one of the user's own sessions; its tokens stop working at once.

    Rules: another user's session is answered exactly like one that does not exist
    (``NotFound``), so its id tells nothing. Revoking an already revoked session of
    one's own changes nothing and is not an error.
    """
    now = clock.now()
    async with uow:
        session = await uow.sessions.get(cmd.session_id, for_update=True)
        if session is None or session.user_id != cmd.user_id:
            raise NotFound("No such session.")
        if not session.revoke(now, RevokeReason.REVOKED_BY_USER):
            return
        await uow.sessions.update(session)
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.SESSION_REVOKED,
                at=now,
                user_id=cmd.user_id,
                client=cmd.client,
                session_id=str(session.id),
            )
        )
        await uow.commit()


async def revoke_other_sessions(cmd: RevokeOtherSessions, uow: UnitOfWork, *, clock: Clock) -> int:
    """Revoke every session of the user but the one making the request; how many were revoked."""
    now = clock.now()
    async with uow:
        count = await uow.sessions.revoke_all(
            cmd.user_id, now=now, reason=RevokeReason.REVOKED_BY_USER, keep=cmd.current_session_id
        )
        if count:
            await uow.audit.record(
                AuditEntry.record(
                    AuditKind.SESSION_REVOKED, at=now, user_id=cmd.user_id, client=cmd.client, revoked=count
                )
            )
        await uow.commit()
    return count
