"""Applying the throttles of ``identity.domain.throttling`` through the attempts repository."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from identity.application.errors import TooManyAttempts
from identity.application.ports import Attempts, Clock, UnitOfWork
from identity.domain.sessions import ClientInfo
from identity.domain.throttling import (
    ThrottlePolicy,
    account_bound,
    account_client_key,
    account_key,
    address_key,
    device_key,
    mail_client_key,
    mail_key,
    retry_after,
    slowdown,
)

Keys = list[tuple[str, int]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """How one password attempt is throttled (``domain.throttling``)."""

    limited: Keys
    """Keys refused at their limit (429 until the oldest failure leaves the window)."""
    account: str
    """The account's key: every attempt counts under it."""
    slowed: bool
    """Whether the account's slowdown applies (an unknown client)."""
    own: list[str] = field(default_factory=list)
    """The keys of this client on this account, cleared by a success."""

    @property
    def counted(self) -> list[str]:
        return sorted({key for key, _ in self.limited} | {self.account})


def login_plan(email: str, client: ClientInfo, policy: ThrottlePolicy, *, device: str | None) -> Plan:
    """A login on ``email`` from ``client``; ``device``: the token of a device known to the account."""
    if device is not None:
        own = device_key(email, device)
        return Plan(limited=[(own, policy.per_account)], account=account_key(email), slowed=False, own=[own])
    own = account_client_key(email, client.ip)
    limited = [(own, policy.per_account)]
    if client.ip:
        limited.append((address_key(client.ip), policy.per_address))
    return Plan(limited=limited, account=account_key(email), slowed=True, own=[own])


def confirmation_plan(email: str, client: ClientInfo, policy: ThrottlePolicy) -> Plan:
    """The password asked again of a signed-in account: its (account, client) limit; a session
    is as good as a known device, so the account's slowdown does not apply."""
    own = account_client_key(email, client.ip)
    return Plan(limited=[(own, policy.per_account)], account=account_key(email), slowed=False, own=[own])


async def reserve_planned(uow: UnitOfWork, plan: Plan, policy: ThrottlePolicy, now: datetime) -> int | None:
    """:func:`reserve_attempt` under ``plan``: its limits, and the account's slowdown if it applies."""
    extra = None
    if plan.slowed:
        account = plan.account

        async def account_wait() -> int | None:
            since = now - policy.window
            failures = await uow.attempts.recent(account, since=since, limit=account_bound(policy) + 1)
            return slowdown(failures, policy, now=now)

        extra = account_wait
    return await reserve_attempt(uow, plan.limited, policy, now, also=[plan.account], extra_wait=extra)


async def settle_success(uow: UnitOfWork, plan: Plan, now: datetime) -> None:
    """A planned attempt that succeeded: its own keys cleared, its count taken back elsewhere."""
    await uow.attempts.withdraw([key for key in plan.counted if key not in plan.own], at=now)
    for key in plan.own:
        await uow.attempts.clear(key)


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


async def reserve_attempt(
    uow: UnitOfWork,
    keys: Keys,
    policy: ThrottlePolicy,
    now: datetime,
    *,
    also: Sequence[str] = (),
    extra_wait: Callable[[], Awaitable[int | None]] | None = None,
) -> int | None:
    """Inside ``uow``'s transaction: the seconds to wait before an attempt under ``keys``, or
    None with the attempt already counted under each key.

    Counting before the attempt is made (a password checked, a mail sent), with the keys
    locked (in one order, so two attempts never wait on each other crosswise), is what makes
    the limit hold against concurrent attempts: each sees those still in progress. A login
    that succeeds takes its count back (:meth:`~identity.application.ports.Attempts.withdraw`).
    ``also``: keys counted without a limit of their own; ``extra_wait``: a further wait to
    respect, computed with the locks held.
    """
    counted = sorted({key for key, _ in keys} | set(also))
    for key in counted:
        await uow.attempts.lock(key)
    waits = [await _wait_needed(uow.attempts, keys, policy, now)]
    if extra_wait is not None:
        waits.append(await extra_wait())
    wait = max((w for w in waits if w is not None), default=None)
    if wait is None:
        await uow.attempts.add(counted, at=now, prune_before=now - policy.window)
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
