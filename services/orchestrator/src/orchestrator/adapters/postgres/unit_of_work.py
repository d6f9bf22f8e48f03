"""orchestrator's unit of work: the shared transaction and outbox staging (``shared.db.unit_of_work``),
with orchestrator's repositories on its connection.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.adapters.postgres.erasures import SqlAlchemyErasureRepository
from orchestrator.application.ports import ErasureRepository
from orchestrator.domain.events import DomainEvent
from shared.db import unit_of_work


class SqlAlchemyUnitOfWork(unit_of_work.SqlAlchemyUnitOfWork[DomainEvent]):
    erasures: ErasureRepository

    def attach_repositories(self, conn: AsyncConnection) -> None:
        self.erasures = SqlAlchemyErasureRepository(conn)
