"""chat's unit of work: the shared transaction and outbox staging (``shared.db.unit_of_work``),
with chat's repositories on its connection.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from chat.adapters.postgres.erasures import SqlAlchemyErasureRepository
from chat.application.ports import ErasureRepository
from chat.domain.events import DomainEvent
from shared.db import unit_of_work


class SqlAlchemyUnitOfWork(unit_of_work.SqlAlchemyUnitOfWork[DomainEvent]):
    erasures: ErasureRepository

    def attach_repositories(self, conn: AsyncConnection) -> None:
        self.erasures = SqlAlchemyErasureRepository(conn)
