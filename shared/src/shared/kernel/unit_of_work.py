"""The unit-of-work port every service's use cases depend on."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self, TypeVar

E_contra = TypeVar("E_contra", contravariant=True)


class UnitOfWork(Protocol[E_contra]):
    """One database transaction and the repositories working inside it.

    Transactional: nothing is kept unless :meth:`commit` is called inside the
    ``async with`` block; leaving it otherwise (or by an exception) rolls back.
    Events emitted with :meth:`emit` are written to the outbox by :meth:`commit`,
    in the same transaction as the state they describe.

    A service's port extends it with its repositories, typed with its domain
    event base: ``class UnitOfWork(kernel.UnitOfWork[DomainEvent], Protocol)``.
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def emit(self, *events: E_contra) -> None:
        """Stage events for the outbox; they are published only if the transaction commits."""
        ...

    async def commit(self) -> None: ...
