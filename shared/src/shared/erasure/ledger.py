"""The erasure ledger in PostgreSQL (``shared.kernel.erasure.ErasureLedger``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.erasure.tables import erasures
from shared.kernel.aggregate import Seen
from shared.kernel.erasure import Erasure

_GET = sa.select(erasures.c.user_id, erasures.c.event_id, erasures.c.erased_at).where(
    erasures.c.user_id == sa.bindparam("user_id")
)
_ADD = erasures.insert()


class SqlAlchemyErasureLedger:
    """Every erasure it loads or adds joins ``seen``: a new one's receipt goes out with the commit.

    ``seen`` is the unit of work's, typed by the service's own domain events; the
    ledger only ever adds erasures, whose events (``UserErased``) the service's
    translator maps to its ``<service>.user.erased`` contract.
    """

    def __init__(self, conn: AsyncConnection, seen: Seen[Any]) -> None:
        self._conn = conn
        self._seen = seen

    async def get(self, user_id: UUID) -> Erasure | None:
        row = (await self._conn.execute(_GET, {"user_id": user_id})).first()
        if row is None:
            return None
        erasure = Erasure(user_id=row.user_id, cause_event_id=row.event_id, erased_at=row.erased_at)
        self._seen.add(erasure)
        return erasure

    async def add(self, erasure: Erasure) -> None:
        await self._conn.execute(
            _ADD,
            {"user_id": erasure.user_id, "event_id": erasure.cause_event_id, "erased_at": erasure.erased_at},
        )
        self._seen.add(erasure)
