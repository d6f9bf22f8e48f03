"""Asking for the password again before a sensitive change (password change, deletion)."""

from __future__ import annotations

from uuid import UUID

from identity.application.errors import NoPassword, TooManyAttempts, WrongPassword
from identity.application.ports import Clock, PasswordHasher, UnitOfWork
from identity.application.throttle import confirmation_plan, reserve_planned, settle_success
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.passwords import normalise_password
from identity.domain.sessions import ClientInfo
from identity.domain.throttling import ThrottlePolicy
from identity.domain.users import User
from shared.kernel.errors import NotFound


async def reauthenticate(
    uow: UnitOfWork,
    *,
    user_id: UUID,
    password: str,
    client: ClientInfo,
    purpose: str,
    hasher: PasswordHasher,
    clock: Clock,
    throttle: ThrottlePolicy,
) -> User:
    """The account, once ``password`` proved to be its password.

    Rules: throttled per (account, client) as logins are, and counted under the account (a
    stolen access token must not become a way to guess the password); a session is as good
    as a known device, so the account's slowdown does not apply: another client's guesses
    never refuse the owner. A wrong password counts as a failed login and is audited; a
    right one takes its count back.
    An account without a password cannot prove anything this way (``NoPassword``).
    """
    now = clock.now()
    async with uow:
        user = await uow.users.get(user_id)
        if user is None:
            raise NotFound("No such account.")
        if user.password_hash is None:
            raise NoPassword
        plan = confirmation_plan(user.email, client, throttle)
        wait = await reserve_planned(uow, plan, throttle, now)
        await uow.commit()
    if wait is not None:
        raise TooManyAttempts(wait)
    if await hasher.verify(user.password_hash, normalise_password(password)):
        async with uow:
            await settle_success(uow, plan, now)
            await uow.commit()
        return user
    async with uow:  # counted already, by the reservation
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.LOGIN_FAILED,
                at=now,
                user_id=user.id,
                client=client,
                reason="wrong_password",
                during=purpose,
            )
        )
        await uow.commit()
    raise WrongPassword
