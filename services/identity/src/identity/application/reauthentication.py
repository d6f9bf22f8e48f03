"""Asking for the password again before a sensitive change (password change, deletion)."""

from __future__ import annotations

from uuid import UUID

from identity.application.errors import NoPassword, TooManyAttempts, WrongPassword
from identity.application.ports import Clock, PasswordHasher, UnitOfWork
from identity.application.throttle import reserve_attempt, throttle_keys
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

    Rules: the same throttle as logins, counted the same way (a stolen access token must not
    become a way to guess the password); a wrong password counts as a failed login and is
    audited; a right one takes its count back.
    An account without a password cannot prove anything this way (``NoPassword``).
    """
    now = clock.now()
    async with uow:
        user = await uow.users.get(user_id)
        if user is None:
            raise NotFound("No such account.")
        if user.password_hash is None:
            raise NoPassword
        keys = throttle_keys(user.email, client, throttle)
        wait = await reserve_attempt(uow, keys, throttle, now)
        await uow.commit()
    if wait is not None:
        raise TooManyAttempts(wait)
    if await hasher.verify(user.password_hash, normalise_password(password)):
        async with uow:
            await uow.attempts.withdraw([key for key, _ in keys], at=now)
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
