"""Events published by identity (stream ``IDENTITY``, subjects ``identity.>``).

None of them ever carries a password, a hash or a token.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from shared.contracts.base import Event, union_decoder

STREAM = "IDENTITY"
SUBJECTS = "identity.>"


class UserRegistered(Event, frozen=True, kw_only=True, tag="aiorch.identity.user.registered.v1"):
    subject: ClassVar[str] = "identity.user.registered"
    user_id: UUID
    email: str
    name: str | None = None
    role: str = "user"

    @property
    def subject_id(self) -> str:
        return str(self.user_id)


class UserUpdated(Event, frozen=True, kw_only=True, tag="aiorch.identity.user.updated.v1"):
    subject: ClassVar[str] = "identity.user.updated"
    user_id: UUID
    name: str | None = None
    role: str = "user"
    is_active: bool = True

    @property
    def subject_id(self) -> str:
        return str(self.user_id)


class UserDeleted(Event, frozen=True, kw_only=True, tag="aiorch.identity.user.deleted.v1"):
    subject: ClassVar[str] = "identity.user.deleted"
    user_id: UUID

    @property
    def subject_id(self) -> str:
        return str(self.user_id)


class SessionRevoked(Event, frozen=True, kw_only=True, tag="aiorch.identity.session.revoked.v1"):
    """One session was revoked: every access token it issued must be refused from now on.

    ``reason`` is one of ``logout``, ``revoked_by_user``, ``refresh_reuse``, ``password_changed``,
    ``password_reset``, ``deactivated``, ``session_limit`` (more may come: treat any as revoked).
    """

    subject: ClassVar[str] = "identity.session.revoked"
    session_id: UUID
    user_id: UUID
    reason: str
    revoked_at: datetime

    @property
    def subject_id(self) -> str:
        return str(self.session_id)


class UserSessionsRevoked(Event, frozen=True, kw_only=True, tag="aiorch.identity.user.sessions_revoked.v1"):
    """Several sessions of one user were revoked together (a password change or reset, a
    deactivation, "sign out everywhere else", the session limit): the tokens of every session
    named must be refused from now on. Exactly the sessions revoked are named, so the user's
    other sessions (the one that changed the password, a login a moment later) keep working.
    """

    subject: ClassVar[str] = "identity.user.sessions_revoked"
    user_id: UUID
    session_ids: list[UUID]
    reason: str
    revoked_at: datetime

    @property
    def subject_id(self) -> str:
        return str(self.user_id)


IdentityEvent = UserRegistered | UserUpdated | UserDeleted | SessionRevoked | UserSessionsRevoked
decoder = union_decoder(UserRegistered, UserUpdated, UserDeleted, SessionRevoked, UserSessionsRevoked)
