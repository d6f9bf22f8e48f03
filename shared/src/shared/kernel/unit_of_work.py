"""The unit-of-work port every service's use cases depend on."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self


class UnitOfWork(Protocol):
    """One database transaction and the repositories working inside it.

    Transactional: nothing is kept unless :meth:`commit` is called inside the
    ``async with`` block; leaving it otherwise (or by an exception) rolls back.
    The events recorded by every aggregate its repositories loaded or added
    (``shared.kernel.aggregate``) are written to the outbox by :meth:`commit`, in the
    same transaction as the state they describe.

    A service's port extends it with its repositories:
    ``class UnitOfWork(kernel.UnitOfWork, Protocol)``.
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...
