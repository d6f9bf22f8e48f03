"""identity's persistence ports: the unit of work, its repositories, and the reads outside it.

Writes go through the :class:`UnitOfWork` and its repositories (one transaction);
reads that need no transaction go through :class:`Queries` (one round trip each).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from identity.application.oidc import PendingLogin
from identity.domain.audit import AuditEntry
from identity.domain.oidc_links import OidcLink
from identity.domain.one_time_tokens import OneTimeToken, TokenPurpose
from identity.domain.sessions import RefreshToken, RevokeReason, Session
from identity.domain.users import Role, User
from shared.kernel import unit_of_work
from shared.kernel.errors import Conflict


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("An account with this email address already exists.")


class UserRepository(Protocol):
    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None:
        """The account, or None. ``for_update`` locks its row until the transaction ends."""
        ...

    async def by_email(self, email: str) -> User | None:
        """The account with this address, compared in canonical form (``domain.emails.canonical_email``)."""
        ...

    async def add(self, user: User) -> None:
        """Insert a new account.

        Raises:
            EmailTaken: another account has the address (even one registered concurrently).
        """
        ...

    async def update(self, user: User) -> None:
        """Store every field of an account read in this transaction."""
        ...

    async def delete(self, user_id: UUID) -> None:
        """Remove the account and, with it, its sessions, refresh and one-time tokens and OIDC links."""
        ...

    async def lock_active_admins(self) -> list[UUID]:
        """The ids of the active admin accounts, their rows locked (in id order) until the
        transaction ends; an account that stopped being one while this waited is left out."""
        ...


class SessionRepository(Protocol):
    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: UUID, *, for_update: bool = False) -> Session | None: ...

    async def update(self, session: Session) -> None: ...

    async def revoke_all(
        self, user_id: UUID, *, now: datetime, reason: RevokeReason, keep: UUID | None = None
    ) -> int:
        """Revoke every session of the user not yet revoked, but ``keep``; how many were."""
        ...

    async def revoke_beyond(self, user_id: UUID, keep: int, *, now: datetime, reason: RevokeReason) -> int:
        """Revoke the user's live sessions but the ``keep`` most recently used; how many went."""
        ...

    async def delete_ended(self, user_id: UUID, now: datetime) -> int:
        """Delete the user's sessions past their idle or absolute expiry (and their refresh tokens):
        nothing can use them any more. How many went."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def spend(self, digest: bytes, now: datetime) -> UUID | None:
        """Mark the token spent if it is not yet, atomically, and return its session id.

        ``None`` when there is no such token or it was already spent: of any number of
        concurrent calls with one digest, exactly one gets the session id.
        """
        ...

    async def find(self, digest: bytes) -> RefreshToken | None: ...


class OneTimeTokenRepository(Protocol):
    async def add(self, token: OneTimeToken) -> None: ...

    async def find(self, digest: bytes, purpose: TokenPurpose) -> OneTimeToken | None: ...

    async def consume(self, digest: bytes, purpose: TokenPurpose, now: datetime) -> OneTimeToken | None:
        """Mark the token used if it is of ``purpose``, unused and unexpired, atomically; else None."""
        ...

    async def discard(self, user_id: UUID, purpose: TokenPurpose) -> None:
        """Delete the user's tokens of ``purpose`` (a newer one replaces them, or they served)."""
        ...

    async def issue_for_address(
        self, email: str, *, purpose: TokenPurpose, digest: bytes, now: datetime, ttl: timedelta
    ) -> tuple[UUID, str] | None:
        """Replace the tokens of ``purpose`` of the active account with this address by a new one
        (``digest``); that account's id and stored address, or None if there is none.

        The same single statement whether or not the account exists, so its timing tells nothing.
        """
        ...


class OidcLinkRepository(Protocol):
    async def get(self, provider: str, subject: str) -> OidcLink | None: ...

    async def add(self, link: OidcLink) -> None: ...


class PendingLoginRepository(Protocol):
    async def add(self, pending: PendingLogin, *, expires_at: datetime) -> None: ...

    async def take(self, state: str, now: datetime) -> PendingLogin | None:
        """Remove and return the unexpired pending login of ``state``: each can be taken once."""
        ...

    async def prune(self, now: datetime) -> int:
        """Delete expired pending logins; how many."""
        ...


class AuditTrail(Protocol):
    async def record(self, *entries: AuditEntry) -> None: ...

    async def anonymise(self, user_id: UUID) -> None:
        """Make the user's entries (as subject or as actor) say nothing about who they were."""
        ...


class Attempts(Protocol):
    """Throttled attempts (failed logins, requested mails) by key (``identity.domain.throttling``),
    and the devices known to each account (exempt from its slowdown)."""

    async def lock(self, key: str) -> None:
        """Make other transactions counting under ``key`` wait until this one ends.

        Transactional: taken for the rest of the current transaction.
        """
        ...

    async def recent(self, key: str, *, since: datetime, limit: int) -> list[datetime]:
        """The ``limit`` newest attempt times of ``key`` after ``since``."""
        ...

    async def add(self, keys: Sequence[str], *, at: datetime, prune_before: datetime) -> None:
        """Record one attempt under each key; attempts of any key older than ``prune_before``
        may be dropped (they count for nothing once out of the window)."""
        ...

    async def withdraw(self, keys: Sequence[str], *, at: datetime) -> None:
        """Take back one attempt recorded under each key at ``at`` (a reserved attempt that
        turned out a success)."""
        ...

    async def clear(self, key: str) -> None: ...

    async def device_known(self, device: str, user_id: UUID | None, *, since: datetime) -> bool:
        """Whether a login from the device with this token (its cookie) succeeded on the account
        since ``since``. One statement whether or not there is an account (``user_id`` None)."""
        ...

    async def remember_device(
        self, device: str, user_id: UUID, *, now: datetime, forget_before: datetime
    ) -> None:
        """Note that a login from the device with this token succeeded on the account now; the
        account's devices not seen since ``forget_before``, and all but its
        most recent ones (a bounded number), may be forgotten."""
        ...


class UnitOfWork(unit_of_work.UnitOfWork, Protocol):
    """identity's transaction (see ``shared.kernel.unit_of_work``) and its repositories.

    Transactional: nothing is kept unless ``commit()`` is called inside the block; the
    events of every account its ``users`` loaded or added are published with the commit.
    """

    users: UserRepository
    sessions: SessionRepository
    refresh_tokens: RefreshTokenRepository
    one_time_tokens: OneTimeTokenRepository
    oidc_links: OidcLinkRepository
    pending_logins: PendingLoginRepository
    audit: AuditTrail
    attempts: Attempts


class Queries(Protocol):
    """Reads outside any transaction, one round trip each (DESIGN.md's performance budget)."""

    async def user(self, user_id: UUID) -> User | None: ...

    async def active_sessions(self, user_id: UUID, now: datetime) -> list[Session]:
        """The user's sessions neither revoked nor expired, newest first."""
        ...

    async def users(self, *, q: str | None, role: Role | None, after: UUID | None, limit: int) -> list[User]:
        """Accounts whose address or name contains ``q`` (case-insensitively), oldest first,
        strictly after the account ``after``; at most ``limit``."""
        ...

    async def audit(
        self, *, user_id: UUID | None, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[AuditEntry]:
        """Entries (of one user, or all), newest first, strictly before the ``(at, id)`` position."""
        ...
