"""Sessions (one per login, a refresh-token family) and the refresh tokens rotated within them.

A refresh token is spent by its single use, which issues the next one in the same
session. A spent token presented again means two parties hold the chain (a thief
and the owner), and nobody can tell which is which: the whole session is revoked.

Every revocation is recorded as an event, so the services that verify access tokens
locally refuse the session's tokens at once too, not only identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final
from uuid import UUID

from identity.domain.events import DomainEvent
from shared.kernel.aggregate import Aggregate
from shared.kernel.ids import new_id

MAX_USER_AGENT_LENGTH: Final = 256
MAX_IP_LENGTH: Final = 64


class RevokeReason(StrEnum):
    LOGOUT = "logout"
    REVOKED_BY_USER = "revoked_by_user"
    REFRESH_REUSE = "refresh_reuse"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a password
    PASSWORD_RESET = "password_reset"  # noqa: S105
    DEACTIVATED = "deactivated"
    SESSION_LIMIT = "session_limit"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRevoked(DomainEvent):
    """One session revoked; ``occurred_at`` is when."""

    session_id: UUID
    user_id: UUID
    reason: RevokeReason


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionsRevoked(DomainEvent):
    """Several sessions of one user revoked together, by one statement; ``occurred_at`` is when."""

    user_id: UUID
    session_ids: tuple[UUID, ...]
    reason: RevokeReason


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientInfo:
    """Who is on the other end of a request, as far as we can tell; shown back to the user."""

    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def of(cls, ip: str | None, user_agent: str | None) -> ClientInfo:
        # Header values are the client's to choose: keep them short and printable.
        agent = "".join(c for c in (user_agent or "") if c.isprintable())[:MAX_USER_AGENT_LENGTH]
        return cls(ip=ip[:MAX_IP_LENGTH] if ip else None, user_agent=agent or None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionLifetime:
    absolute: timedelta = timedelta(days=30)
    """From login: the session ends then, however active."""
    idle: timedelta = timedelta(days=7)
    """A session not refreshed for this long ends."""


@dataclass(slots=True, kw_only=True)
class Session(Aggregate[DomainEvent]):
    """One login's refresh-token family. Revoking it records ``SessionRevoked`` (once)."""

    id: UUID
    user_id: UUID
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    ip: str | None
    absolute_expires_at: datetime
    idle_timeout: timedelta
    revoked_at: datetime | None = None
    revoke_reason: RevokeReason | None = None
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def start(cls, *, user_id: UUID, now: datetime, lifetime: SessionLifetime, client: ClientInfo) -> Session:
        return cls(
            id=new_id(),
            user_id=user_id,
            created_at=now,
            last_used_at=now,
            user_agent=client.user_agent,
            ip=client.ip,
            absolute_expires_at=now + lifetime.absolute,
            idle_timeout=lifetime.idle,
        )

    @property
    def expires_at(self) -> datetime:
        """When the session ends unless refreshed before: idle or absolute, whichever is first."""
        return min(self.last_used_at + self.idle_timeout, self.absolute_expires_at)

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def touch(self, now: datetime, client: ClientInfo) -> None:
        self.last_used_at = now
        if client.ip is not None:
            self.ip = client.ip
        if client.user_agent is not None:
            self.user_agent = client.user_agent

    def revoke(self, now: datetime, reason: RevokeReason) -> bool:
        """Revoke it; ``False`` if it already was (the first reason is kept)."""
        if self.revoked_at is not None:
            return False
        self.revoked_at, self.revoke_reason = now, reason
        self.record(SessionRevoked(occurred_at=now, session_id=self.id, user_id=self.user_id, reason=reason))
        return True


@dataclass(slots=True, kw_only=True)
class BulkRevocation(Aggregate[DomainEvent]):
    """Sessions of one user revoked by one statement (a password change or reset, a deactivation,
    "sign out everywhere else", the session limit), never loaded one by one: this records the
    one ``SessionsRevoked`` naming them all, so no revoked session goes untold.
    """

    user_id: UUID
    session_ids: tuple[UUID, ...]
    reason: RevokeReason
    at: datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def of(
        cls, user_id: UUID, session_ids: Sequence[UUID], *, reason: RevokeReason, now: datetime
    ) -> BulkRevocation:
        revocation = cls(user_id=user_id, session_ids=tuple(session_ids), reason=reason, at=now)
        if revocation.session_ids:
            revocation.record(
                SessionsRevoked(
                    occurred_at=now, user_id=user_id, session_ids=revocation.session_ids, reason=reason
                )
            )
        return revocation


@dataclass(slots=True, kw_only=True)
class RefreshToken:
    """One link of a session's chain; only the digest of the secret is kept."""

    digest: bytes
    session_id: UUID
    issued_at: datetime
    spent_at: datetime | None = None
