"""Erasing a deleted user's data: the record, the receipt event, the ledger port and the use case.

identity deletes an account and says so (``identity.user.deleted``); every service
holding data of that user erases it and publishes a receipt (``<service>.user.erased``).
What "the user's data" is belongs to each service (its *erase rule*); the rest is the
same everywhere, so it lives here once. The ledger's table, repository, migration and
consumer are the chassis's (``shared.erasure``, ``shared.db.migration_ops``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

from shared.kernel.aggregate import Aggregate
from shared.kernel.clock import Clock
from shared.kernel.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class UserErased:
    """The receipt: this service holds nothing of ``user_id`` any more, as asked by ``cause_event_id``."""

    occurred_at: datetime
    user_id: UUID
    erased_at: datetime
    cause_event_id: UUID
    """The ``identity.user.deleted`` event that asked for the erasure."""


@dataclass(slots=True, kw_only=True)
class Erasure(Aggregate[UserErased]):
    """Evidence that the service erased everything it held about ``user_id``.

    One per user: the first erasure is the evidence; a later request for the same user
    finds nothing left to erase and leaves it unchanged. Made by :meth:`of`, which records
    the receipt; loaded from the ledger, it records nothing.
    """

    user_id: UUID
    cause_event_id: UUID
    erased_at: datetime
    events: list[UserErased] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def of(cls, *, user_id: UUID, cause_event_id: UUID, erased_at: datetime) -> Erasure:
        erasure = cls(user_id=user_id, cause_event_id=cause_event_id, erased_at=erased_at)
        erasure.record(
            UserErased(
                occurred_at=erased_at, user_id=user_id, erased_at=erased_at, cause_event_id=cause_event_id
            )
        )
        return erasure


@dataclass(frozen=True, slots=True, kw_only=True)
class EraseUser:
    """identity deleted ``user_id``; ``cause_event_id`` is the event that said so."""

    user_id: UUID
    cause_event_id: UUID


class ErasureLedger(Protocol):
    """The users whose data this service erased. Transactional: part of the unit of work.

    Every erasure it loads or adds joins the unit of work's ``seen``, so a new one's
    receipt goes to the outbox with the commit.
    """

    async def get(self, user_id: UUID) -> Erasure | None:
        """The erasure of ``user_id``, or None if it never happened."""
        ...

    async def add(self, erasure: Erasure) -> None:
        """Record an erasure; at most one per user (the caller checks with :meth:`get`)."""
        ...


class ErasureUnitOfWork(UnitOfWork, Protocol):
    """A service's unit of work, as far as erasing goes: it has the ledger."""

    erasures: ErasureLedger


U = TypeVar("U", bound=ErasureUnitOfWork)

EraseRule = Callable[[U, UUID], Awaitable[None]]
"""``async (uow, user_id) -> None``: delete everything ``user_id`` owns in this service, on
``uow``'s repositories, inside its open transaction (it never commits)."""


async def erase_user(cmd: EraseUser, uow: U, clock: Clock, erase_rule: EraseRule[U]) -> Erasure:
    """Erase the user's data and record the erasure, in one transaction.

    Rules:
        * Idempotent per user: if the user was already erased (by this or an earlier
          deletion event), nothing changes, no receipt is published again, and the first
          record is returned.
        * The service's erase rule runs in the same transaction as the ledger row and
          the receipt: all three are kept, or none.
        * The erasure time is the service's own clock: when the data went away here,
          not when identity deleted the account.
    """
    async with uow:
        existing = await uow.erasures.get(cmd.user_id)
        if existing is not None:
            return existing
        await erase_rule(uow, cmd.user_id)
        erasure = Erasure.of(user_id=cmd.user_id, cause_event_id=cmd.cause_event_id, erased_at=clock.now())
        await uow.erasures.add(erasure)
        await uow.commit()
        return erasure
