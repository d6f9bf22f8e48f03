"""Admin accounts: the first admin (from the command line or the cluster's settings), and the
rule that one active admin always remains."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from identity.application.ports import Clock, EmailTaken, PasswordHasher, UnitOfWork
from identity.application.registration import Register, register
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.emails import normalise_email
from identity.domain.users import User
from shared.kernel.errors import Conflict


class LastAdmin(Conflict):
    title = "Last admin"

    def __init__(self) -> None:
        super().__init__("This is the last active admin account: make another account an admin first.")


async def keep_an_active_admin(uow: UnitOfWork, user_id: UUID) -> None:
    """Inside ``uow``'s transaction, before ``user_id`` stops being an active admin (demoted,
    deactivated or erased): refuse (``LastAdmin``, 409) if no other active admin would remain.

    Call it before locking the account itself: the active admins' rows are locked first, in one
    order, and stay locked until the transaction ends, so of two admins demoting (or erasing)
    each other at once, the second sees the first's change and is refused.
    """
    admins = await uow.users.lock_active_admins()
    if user_id in admins and len(admins) == 1:
        raise LastAdmin


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateAdmin:
    email: str
    password: str = field(repr=False)
    name: str | None = None
    promote_existing: bool = True
    """If an account has the address: make it an admin (True) or leave it as it is (False)."""


async def create_admin(
    cmd: CreateAdmin, uow: UnitOfWork, *, hasher: PasswordHasher, clock: Clock
) -> tuple[User, bool]:
    """An admin account with this address; whether it was created (False: it existed).

    Rules:
        * A new account is registered as any other (same address and password rules, same
          event), with the ``admin`` role.
        * An existing account keeps its password; it is promoted to admin if asked
          (``identity.user.updated``), else left alone. Two starts racing are fine: the
          loser finds the winner's account.
    """
    email = normalise_email(cmd.email)
    async with uow:
        existing = await uow.users.by_email(email)
    if existing is None:
        try:
            command = Register(email=email, password=cmd.password, name=cmd.name, role="admin")
            return await register(command, uow, hasher=hasher, clock=clock), True
        except EmailTaken:
            pass
    now = clock.now()
    async with uow:
        user = await uow.users.by_email(email)
        if user is None:  # deleted between the two looks: rare enough to report, not retry
            raise EmailTaken
        if cmd.promote_existing and user.change_role("admin", now):
            await uow.users.update(user)
            await uow.audit.record(
                AuditEntry.record(AuditKind.ROLE_CHANGED, at=now, user_id=user.id, role="admin")
            )
            await uow.commit()
    return user, False
