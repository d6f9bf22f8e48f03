"""Use case: erase what chat holds about a user whose account was deleted."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from chat.application.ports import UnitOfWork
from chat.domain.erasure import Erasure
from shared.kernel.clock import Clock


@dataclass(frozen=True, slots=True, kw_only=True)
class EraseUser:
    """identity deleted ``user_id``; ``event_id`` is the event that said so."""

    user_id: UUID
    event_id: UUID


async def erase_user(cmd: EraseUser, uow: UnitOfWork, clock: Clock) -> Erasure:
    """Erase the user's data and record the erasure, in one transaction.

    Rules:
        * Idempotent per user: if the user was already erased (by this or an
          earlier deletion event), nothing changes and the first record is returned.
        * Everything the user owns here goes (conversations, messages and attachments, as those
          features arrive), in the same transaction as the record.
        * The erasure time is chat's own clock: it is when the data went away here,
          not when identity deleted the account.
    """
    async with uow:
        existing = await uow.erasures.get(cmd.user_id)
        if existing is not None:
            return existing
        erasure = Erasure(user_id=cmd.user_id, event_id=cmd.event_id, erased_at=clock.now())
        await uow.erasures.add(erasure)
        await uow.commit()
        return erasure
