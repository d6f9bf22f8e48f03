"""The unit of work on PostgreSQL: one transaction, its repositories and its outbox rows.

Two ways to run:

* :meth:`SqlAlchemyUnitOfWork.from_engine` owns a connection and its transaction
  (HTTP requests, commands);
* :meth:`SqlAlchemyUnitOfWork.joining` works inside a transaction someone else
  owns (an event consumer, which records the inbox row in the same one). It
  uses a savepoint, so "not committed" still discards the use case's changes;
  "committed" releases them into the owner's transaction, which the owner commits.

An instance may be entered again once its block has ended, never by two tasks at once.

A service subclasses it, typed with its domain event base, and builds its
repositories on the connection in :meth:`~SqlAlchemyUnitOfWork.attach_repositories`,
handing each the unit of work's :attr:`~SqlAlchemyUnitOfWork.seen`: a repository adds
every aggregate it loads or adds there, and :meth:`~SqlAlchemyUnitOfWork.commit`
stages their new events in the outbox.

The outbox is a port here (:class:`OutboxStage`): the messaging chassis implements it
(``shared.messaging.outbox.OutboxWriter``), so the database layer never imports messaging.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from shared.contracts.base import Event
from shared.kernel.aggregate import Seen

E = TypeVar("E")

Translate = Callable[[E], Event]
"""Maps a service's domain event to its public contract (the service's ``to_contract``)."""


class OutboxStage(Protocol):
    """Stages events in the outbox table, inside the caller's open transaction."""

    async def add(self, conn: AsyncConnection, events: Sequence[Event]) -> None: ...


class SqlAlchemyUnitOfWork(Generic[E]):
    def __init__(
        self,
        *,
        outbox: OutboxStage,
        translate: Translate[E],
        engine: AsyncEngine | None = None,
        connection: AsyncConnection | None = None,
    ) -> None:
        if (engine is None) == (connection is None):
            raise ValueError("give either an engine (own transaction) or a connection (joined)")
        self._engine = engine
        self._joined = connection
        self._outbox = outbox
        self._translate = translate
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None
        self.seen: Seen[E] = Seen()
        """The aggregates this transaction's repositories loaded or added."""

    @classmethod
    def from_engine(cls, engine: AsyncEngine, outbox: OutboxStage, translate: Translate[E]) -> Self:
        return cls(engine=engine, outbox=outbox, translate=translate)

    @classmethod
    def joining(cls, connection: AsyncConnection, outbox: OutboxStage, translate: Translate[E]) -> Self:
        return cls(connection=connection, outbox=outbox, translate=translate)

    def attach_repositories(self, conn: AsyncConnection) -> None:
        """Build the service's repositories on ``conn``; called on entering the block."""

    async def __aenter__(self) -> Self:
        if self._conn is not None:
            # its connection and transaction live on the instance: a second task entering it would
            # take them over, and the first one's connection would go back to the pool mid-transaction
            raise RuntimeError("this unit of work is already open: give each task its own")
        if self._engine is not None:
            self._conn = await self._engine.connect()
            try:
                self._tx = await self._conn.begin()
            except BaseException:
                await self._conn.close()
                raise
        else:
            assert self._joined is not None
            self._conn = self._joined
            self._tx = await self._conn.begin_nested()
        self.seen.clear()
        self.attach_repositories(self._conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                await self._tx.rollback()
        finally:
            if self._engine is not None and self._conn is not None:
                await self._conn.close()
            self._conn = self._tx = None
            self.seen.clear()

    async def commit(self) -> None:
        if self._conn is None or self._tx is None:
            raise RuntimeError("commit() outside 'async with uow'")
        await self._outbox.add(self._conn, [self._translate(event) for event in self.seen.collect()])
        await self._tx.commit()
