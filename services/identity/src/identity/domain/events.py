"""identity's domain events, recorded by the ``User`` aggregate; adapters translate them to public contracts.

They carry no secret: never a password, a hash or a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Something that happened in identity, recorded by the use case that caused it."""

    occurred_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRegistered(DomainEvent):
    user_id: UUID
    email: str
    name: str | None
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UserUpdated(DomainEvent):
    """The name, the role or the active flag changed; the event states all three as they are now."""

    user_id: UUID
    name: str | None
    role: str
    is_active: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDeleted(DomainEvent):
    user_id: UUID
