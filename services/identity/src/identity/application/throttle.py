"""Applying the throttles of ``identity.domain.throttling`` through the attempts repository."""

from __future__ import annotations

from datetime import datetime

from identity.application.errors import TooManyAttempts
from identity.application.ports import Attempts, Clock, UnitOfWork
from identity.domain.sessions import ClientInfo
from identity.domain.throttling import (
    ThrottlePolicy,
    account_key,
    address_key,
    mail_client_key,
    mail_key,
    retry_after,
)

Keys = list[tuple[str, int]]


def throttle_keys(email: str, client: ClientInfo, policy: ThrottlePolicy) -> Keys:
    """The keys a login on ``email`` from ``client`` counts under, each with its limit."""
    keys = [(account_key(email), policy.per_account)]
    if client.ip:
        keys.append((address_key(client.ip), policy.per_address))
    return keys


async def _wait_needed(attempts: Attempts, keys: Keys, policy: ThrottlePolicy, now: datetime) -> int | None:
    """Seconds to wait before another attempt under ``keys``, or None if one is allowed now."""
    since = now - policy.window
    waits = [
        retry_after(
            await attempts.recent(key, since=since, limit=limit), limit=limit, window=policy.window, now=now
        )
        for key, limit in keys
    ]
    return max((wait for wait in waits if wait is not None), default=None)


async def reserve_attempt(uow: UnitOfWork, keys: Keys, policy: ThrottlePolicy, now: datetime) -> int | None:
    """Inside ``uow``'s transaction: the seconds to wait before an attempt under ``keys``, or
    None with the attempt already counted under each key.

    Counting before the attempt is made (a password checked, a mail sent), with the keys
    locked (in one order, so two attempts never wait on each other crosswise), is what makes
    the limit hold against concurrent attempts: each sees those still in progress. A login
    that succeeds takes its count back (:meth:`~identity.application.ports.Attempts.withdraw`).
    """
    for key, _ in sorted(keys):
        await uow.attempts.lock(key)
    wait = await _wait_needed(uow.attempts, keys, policy, now)
    if wait is None:
        await uow.attempts.add([key for key, _ in keys], at=now, prune_before=now - policy.window)
    return wait


async def admit_mail_request(
    client: ClientInfo, uow: UnitOfWork, *, throttle: ThrottlePolicy, clock: Clock
) -> None:
    """Count a request for a mailed link from ``client``, refused past the client's limit.

    Rule: the answer depends on the client alone, never on the address asked about, so it
    tells nothing of which accounts exist (``TooManyAttempts``, 429, either way).
    """
    if not client.ip:
        return
    async with uow:
        key = mail_client_key(client.ip)
        wait = await reserve_attempt(uow, [(key, throttle.mail_requests_per_client)], throttle, clock.now())
        if wait is not None:
            raise TooManyAttempts(
                wait, "Too many requests for mailed links from this client. Try again later."
            )
        await uow.commit()


async def take_mail_allowance(
    email: str, uow: UnitOfWork, policy: ThrottlePolicy, now: datetime
) -> int | None:
    """Count one link mailed to ``email`` inside ``uow``'s transaction.

    Returns:
        None when the link may go (it is counted), else the seconds until one may.
    """
    return await reserve_attempt(uow, [(mail_key(email), policy.mails_per_address)], policy, now)
