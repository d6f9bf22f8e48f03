"""Accounts in PostgreSQL (SQLAlchemy Core; rows mapped to ``User`` explicitly)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from identity.adapters.postgres.tables import users
from identity.application.ports import EmailTaken
from identity.domain.emails import canonical_email
from identity.domain.events import DomainEvent
from identity.domain.users import Role, User
from shared.kernel.aggregate import Seen

_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.name,
    users.c.role,
    users.c.is_active,
    users.c.email_verified_at,
    users.c.password_hash,
    users.c.created_at,
    users.c.updated_at,
)
SELECT_USER = sa.select(*_COLUMNS)
_BY_ID = SELECT_USER.where(users.c.id == sa.bindparam("id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
# The canonical form is computed in Python (identity.domain.emails), never by PostgreSQL's
# lower(): one function decides what counts as the same address, for the lookup, the unique
# index on this column, the throttle keys and the audit alike.
_BY_EMAIL = SELECT_USER.where(users.c.email_canonical == sa.bindparam("email_canonical"))
_UPDATE = (
    users.update()
    .where(users.c.id == sa.bindparam("key"))
    .values({c.name: sa.bindparam(c.name) for c in (*_COLUMNS, users.c.email_canonical) if c.name != "id"})
)
# DO NOTHING rather than an error: a duplicate address leaves the transaction usable.
_INSERT = insert(users).on_conflict_do_nothing().returning(users.c.id)
_DELETE = users.delete().where(users.c.id == sa.bindparam("id"))
# In id order, so two transactions lock them in the same order; after a wait PostgreSQL checks
# the WHERE again on the newest row version, so a just-demoted admin is not counted.
_ACTIVE_ADMINS = (
    sa.select(users.c.id)
    .where(users.c.role == "admin", users.c.is_active)
    .order_by(users.c.id)
    .with_for_update()
)


def user_from_row(row: Mapping[Any, Any]) -> User:
    """The one mapping of a ``users`` row: a SQLAlchemy row's ``_mapping`` or an asyncpg record."""
    return User(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=cast(Role, row["role"]),
        is_active=row["is_active"],
        email_verified_at=row["email_verified_at"],
        password_hash=row["password_hash"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _values(user: User) -> dict[str, Any]:
    return {c.name: getattr(user, c.name) for c in _COLUMNS} | {
        "email_canonical": canonical_email(user.email)
    }


class SqlAlchemyUserRepository:
    """Every account it loads or adds joins ``seen``: its events go out when the unit of work commits."""

    def __init__(self, conn: AsyncConnection, seen: Seen[DomainEvent]) -> None:
        self._conn = conn
        self._seen = seen

    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None:
        statement = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        row = (await self._conn.execute(statement, {"id": user_id})).first()
        return None if row is None else self._loaded(row)

    async def by_email(self, email: str) -> User | None:
        row = (await self._conn.execute(_BY_EMAIL, {"email_canonical": canonical_email(email)})).first()
        return None if row is None else self._loaded(row)

    async def add(self, user: User) -> None:
        inserted = (await self._conn.execute(_INSERT, _values(user))).first()
        if inserted is None:
            raise EmailTaken
        self._seen.add(user)

    def _loaded(self, row: Any) -> User:
        user = user_from_row(row._mapping)
        self._seen.add(user)
        return user

    async def update(self, user: User) -> None:
        values = _values(user)
        values["key"] = values.pop("id")
        await self._conn.execute(_UPDATE, values)

    async def delete(self, user_id: UUID) -> None:
        await self._conn.execute(_DELETE, {"id": user_id})

    async def lock_active_admins(self) -> list[UUID]:
        return list((await self._conn.execute(_ACTIVE_ADMINS)).scalars())
