"""Erasing an account, by its owner or by an admin."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from identity.application.ports import UnitOfWork
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.throttling import account_key, mail_key
from identity.domain.users import User


async def erase(uow: UnitOfWork, user: User, *, now: datetime, actor_id: UUID | None = None) -> None:
    """Erase ``user`` inside the caller's transaction (the caller commits).

    Rules:
        * The account goes, and with it its sessions, refresh and one-time tokens and OIDC
          links; the attempts counted under its address (failed logins, mailed links) go too.
        * Audit entries stay, anonymised: they no longer say whom they were about, nor from
          where. The erasure itself is recorded the same way, naming only the admin who did it.
        * ``identity.user.deleted`` is staged in the outbox once, with the erasure.
    """
    user.delete(now)
    await uow.audit.anonymise(user.id)
    for key in (account_key(user.email), mail_key(user.email)):
        await uow.attempts.clear(key)
    await uow.users.delete(user.id)
    await uow.audit.record(AuditEntry.record(AuditKind.USER_DELETED, at=now, user_id=None, actor_id=actor_id))
