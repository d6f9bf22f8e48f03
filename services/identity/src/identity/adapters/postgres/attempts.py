"""Throttled attempts (failed logins, requested mails) by throttle key in PostgreSQL, and the
devices known to each account.

Keys and device tokens are stored as their SHA-256: the table counts attempts, it need not
(and must not) keep a list of the addresses people typed, existing or not, nor a cookie.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from identity.adapters.postgres.tables import attempts, known_devices

_RECENT = (
    sa.select(attempts.c.at)
    .where(attempts.c.key == sa.bindparam("key"), attempts.c.at > sa.bindparam("since"))
    .order_by(attempts.c.at.desc())
    .limit(sa.bindparam("limit"))
)
# Past the window an attempt counts for no key, so pruning is not per key: a bounded batch of
# the oldest rows goes with every insert, which keeps the table at about a window's worth of
# attempts with no clean-up job to forget. SKIP LOCKED: concurrent failures never wait on
# each other's pruning.
_PRUNE_BATCH = 100
_PRUNE = attempts.delete().where(
    attempts.c.id.in_(
        sa.select(attempts.c.id)
        .where(attempts.c.at < sa.bindparam("before"))
        .order_by(attempts.c.at)
        .limit(_PRUNE_BATCH)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
)
_CLEAR = attempts.delete().where(attempts.c.key == sa.bindparam("key"))
_WITHDRAW = attempts.delete().where(
    attempts.c.id
    == sa.select(attempts.c.id)
    .where(attempts.c.key == sa.bindparam("key"), attempts.c.at == sa.bindparam("at"))
    .order_by(attempts.c.id.desc())
    .limit(1)
    .scalar_subquery()
)
# Transaction-scoped advisory locks in a class of their own (the two-key form, which never
# meets the one-key locks the outbox relay takes), one per key: requests counting under the
# same key take turns, so none of them checks a count another is about to raise.
_LOCK_CLASS = 0x61747470  # "attp"
_LOCK = sa.select(sa.func.pg_advisory_xact_lock(_LOCK_CLASS, sa.bindparam("lock_id", type_=sa.Integer)))


_DEVICE_KNOWN = sa.select(sa.literal(1)).where(
    known_devices.c.digest == sa.bindparam("digest"),
    known_devices.c.user_id == sa.bindparam("user_id"),
    known_devices.c.last_login_at > sa.bindparam("since"),
)
_REMEMBER_DEVICE = (
    insert(known_devices)
    .values(digest=sa.bindparam("digest"), user_id=sa.bindparam("user_id"), last_login_at=sa.bindparam("now"))
    .on_conflict_do_update(
        index_elements=[known_devices.c.digest, known_devices.c.user_id],
        set_={"last_login_at": sa.bindparam("now")},
    )
)
# A client that keeps no cookie (a script) makes a new device at every login: an account keeps
# its most recent devices only, and none unseen for the known-device lifetime.
MAX_KNOWN_DEVICES = 100
_NEWEST_DEVICES = (
    sa.select(known_devices.c.digest)
    .where(known_devices.c.user_id == sa.bindparam("user_id"))
    .order_by(known_devices.c.last_login_at.desc())
    .limit(MAX_KNOWN_DEVICES)
)
_FORGET_DEVICES = known_devices.delete().where(
    known_devices.c.user_id == sa.bindparam("user_id"),
    sa.or_(
        known_devices.c.last_login_at < sa.bindparam("before"),
        known_devices.c.digest.not_in(_NEWEST_DEVICES.scalar_subquery()),
    ),
)
# No account: the same statement on an id no account has, so the timing tells nothing.
_NO_ACCOUNT = UUID(int=0)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class SqlAlchemyAttempts:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def lock(self, key: str) -> None:
        lock_id = int.from_bytes(_digest(key)[:4], "big", signed=True)
        await self._conn.execute(_LOCK, {"lock_id": lock_id})

    async def recent(self, key: str, *, since: datetime, limit: int) -> list[datetime]:
        rows = await self._conn.execute(_RECENT, {"key": _digest(key), "since": since, "limit": limit})
        return [row.at for row in rows]

    async def add(self, keys: Sequence[str], *, at: datetime, prune_before: datetime) -> None:
        await self._conn.execute(_PRUNE, {"before": prune_before})
        await self._conn.execute(attempts.insert(), [{"key": _digest(key), "at": at} for key in keys])

    async def withdraw(self, keys: Sequence[str], *, at: datetime) -> None:
        for key in keys:
            await self._conn.execute(_WITHDRAW, {"key": _digest(key), "at": at})

    async def clear(self, key: str) -> None:
        await self._conn.execute(_CLEAR, {"key": _digest(key)})

    async def device_known(self, device: str, user_id: UUID | None, *, since: datetime) -> bool:
        params = {"digest": _digest(device), "user_id": user_id or _NO_ACCOUNT, "since": since}
        return (await self._conn.execute(_DEVICE_KNOWN, params)).first() is not None

    async def remember_device(
        self, device: str, user_id: UUID, *, now: datetime, forget_before: datetime
    ) -> None:
        params = {"digest": _digest(device), "user_id": user_id, "now": now}
        await self._conn.execute(_REMEMBER_DEVICE, params)
        await self._conn.execute(_FORGET_DEVICES, {"user_id": user_id, "before": forget_before})
