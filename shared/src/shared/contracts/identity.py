"""Events published by identity (stream ``IDENTITY``, subjects ``identity.>``).

None of them ever carries a password, a hash or a token.
"""

from __future__ import annotations

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


IdentityEvent = UserRegistered | UserUpdated | UserDeleted
decoder = union_decoder(UserRegistered, UserUpdated, UserDeleted)
