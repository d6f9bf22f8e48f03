"""The user account: the aggregate that records identity's public events."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, get_args
from uuid import UUID

from identity.domain.events import DomainEvent, UserDeleted, UserRegistered, UserUpdated
from shared.kernel.aggregate import Aggregate
from shared.kernel.errors import InvalidInput
from shared.kernel.ids import new_id

Role = Literal["user", "admin"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
MAX_NAME_LENGTH: Final = 100


def normalise_name(raw: str | None) -> str | None:
    """A display name: NFKC, blanks collapsed; empty means none.

    Raises:
        InvalidInput: longer than 100 characters, or holding control characters.
    """
    if raw is None:
        return None
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"The name must be at most {MAX_NAME_LENGTH} characters.")
    if not name.isprintable():
        raise InvalidInput("The name must not contain control characters.")
    return name or None


@dataclass(slots=True, kw_only=True)
class User(Aggregate[DomainEvent]):
    """An account. ``password_hash`` is ``None`` for accounts that only sign in through OIDC.

    Rules: changes to the name, role or active flag record one ``UserUpdated`` stating
    all three; a change to nothing records nothing. Creation and deletion record their
    own event. The password hash never leaves through an event.
    """

    id: UUID
    email: str
    name: str | None
    role: Role
    is_active: bool
    email_verified_at: datetime | None
    password_hash: str | None = field(repr=False)
    created_at: datetime
    updated_at: datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(
        cls,
        *,
        email: str,
        name: str | None,
        password_hash: str | None,
        now: datetime,
        role: Role = "user",
        email_verified_at: datetime | None = None,
    ) -> User:
        """A new, active account; ``email`` already normalised (``domain.emails``)."""
        user = cls(
            id=new_id(),
            email=email,
            name=name,
            role=role,
            is_active=True,
            email_verified_at=email_verified_at,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
        )
        user.record(UserRegistered(occurred_at=now, user_id=user.id, email=email, name=name, role=role))
        return user

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def rename(self, name: str | None, now: datetime) -> bool:
        if name == self.name:
            return False
        self.name = name
        self._updated(now)
        return True

    def change_role(self, role: Role, now: datetime) -> bool:
        if role not in ROLES:
            raise InvalidInput(f"Unknown role {role!r}.")
        if role == self.role:
            return False
        self.role = role
        self._updated(now)
        return True

    def set_active(self, active: bool, now: datetime) -> bool:
        if active == self.is_active:
            return False
        self.is_active = active
        self._updated(now)
        return True

    def set_password_hash(self, password_hash: str, now: datetime) -> None:
        self.password_hash = password_hash
        self.updated_at = now

    def verify_email(self, now: datetime) -> None:
        if self.email_verified_at is None:
            self.email_verified_at = now
            self.updated_at = now

    def delete(self, now: datetime) -> None:
        """Mark the account for erasure: the caller removes it, and the event tells the others."""
        self.record(UserDeleted(occurred_at=now, user_id=self.id))

    def _updated(self, now: datetime) -> None:
        self.updated_at = now
        # One event per change; consumers keep the last state by user id.
        self.record(
            UserUpdated(
                occurred_at=now, user_id=self.id, name=self.name, role=self.role, is_active=self.is_active
            )
        )
