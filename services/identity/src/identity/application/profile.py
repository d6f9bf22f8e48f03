"""Use cases on one's own account: profile, password, deletion."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from identity.application.admins import keep_an_active_admin
from identity.application.erasure import erase
from identity.application.ports import Clock, PasswordHasher, UnitOfWork
from identity.application.reauthentication import reauthenticate
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.passwords import check_password
from identity.domain.sessions import ClientInfo, RevokeReason
from identity.domain.throttling import ThrottlePolicy, account_key
from identity.domain.users import User, normalise_name
from shared.kernel.errors import NotFound


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateProfile:
    user_id: UUID
    name: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangePassword:
    user_id: UUID
    session_id: UUID
    current_password: str = field(repr=False)
    new_password: str = field(repr=False)
    client: ClientInfo = field(default_factory=ClientInfo)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteAccount:
    user_id: UUID
    password: str = field(repr=False)
    client: ClientInfo = field(default_factory=ClientInfo)


async def update_profile(cmd: UpdateProfile, uow: UnitOfWork, *, clock: Clock) -> User:
    """Change one's display name; publishes ``identity.user.updated`` if it changed."""
    name = normalise_name(cmd.name)
    now = clock.now()
    async with uow:
        user = await uow.users.get(cmd.user_id, for_update=True)
        if user is None:
            raise NotFound("No such account.")
        if user.rename(name, now):
            await uow.users.update(user)
        await uow.commit()
    return user


async def change_password(
    cmd: ChangePassword, uow: UnitOfWork, *, hasher: PasswordHasher, clock: Clock, throttle: ThrottlePolicy
) -> None:
    """Replace one's password, proving the current one first.

    Rules:
        * The new password must pass the policy (checked before anything else).
        * The current password is checked as ``reauthenticate`` does (throttled, audited).
        * Every other session is revoked at once; the one making the change stays.
    """
    new_password = check_password(cmd.new_password)
    await reauthenticate(
        uow,
        user_id=cmd.user_id,
        password=cmd.current_password,
        client=cmd.client,
        purpose="password_change",
        hasher=hasher,
        clock=clock,
        throttle=throttle,
    )
    new_hash = await hasher.hash(new_password)
    now = clock.now()
    async with uow:
        user = await uow.users.get(cmd.user_id, for_update=True)
        if user is None:
            raise NotFound("No such account.")
        user.set_password_hash(new_hash, now)
        await uow.users.update(user)
        revoked = await uow.sessions.revoke_all(
            user.id, now=now, reason=RevokeReason.PASSWORD_CHANGED, keep=cmd.session_id
        )
        await uow.attempts.clear(account_key(user.email))
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.PASSWORD_CHANGED, at=now, user_id=user.id, client=cmd.client, revoked=revoked
            )
        )
        await uow.commit()


async def delete_account(
    cmd: DeleteAccount, uow: UnitOfWork, *, hasher: PasswordHasher, clock: Clock, throttle: ThrottlePolicy
) -> None:
    """Erase one's own account (``erasure.erase``), proving the password first; the last active
    admin cannot (``LastAdmin``, 409): another account must be made an admin first."""
    await reauthenticate(
        uow,
        user_id=cmd.user_id,
        password=cmd.password,
        client=cmd.client,
        purpose="account_deletion",
        hasher=hasher,
        clock=clock,
        throttle=throttle,
    )
    now = clock.now()
    async with uow:
        await keep_an_active_admin(uow, cmd.user_id)
        user = await uow.users.get(cmd.user_id, for_update=True)
        if user is None:
            raise NotFound("No such account.")
        await erase(uow, user, now=now)
        await uow.commit()
