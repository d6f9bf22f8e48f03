"""Applying the login throttle (``identity.domain.throttling``) through the failures repository."""

from __future__ import annotations

from datetime import datetime

from identity.application.ports import LoginFailures
from identity.domain.sessions import ClientInfo
from identity.domain.throttling import ThrottlePolicy, account_key, address_key, retry_after

Keys = list[tuple[str, int]]


def throttle_keys(email: str, client: ClientInfo, policy: ThrottlePolicy) -> Keys:
    """The keys an attempt on ``email`` from ``client`` counts under, each with its limit."""
    keys = [(account_key(email), policy.per_account)]
    if client.ip:
        keys.append((address_key(client.ip), policy.per_address))
    return keys


async def wait_needed(
    failures: LoginFailures, keys: Keys, policy: ThrottlePolicy, now: datetime
) -> int | None:
    """Seconds to wait before another attempt under ``keys``, or None if one is allowed now."""
    since = now - policy.window
    waits = [
        retry_after(
            await failures.recent(key, since=since, limit=limit), limit=limit, window=policy.window, now=now
        )
        for key, limit in keys
    ]
    return max((wait for wait in waits if wait is not None), default=None)


async def record_failure(failures: LoginFailures, keys: Keys, policy: ThrottlePolicy, now: datetime) -> None:
    await failures.add([key for key, _ in keys], at=now, prune_before=now - policy.window)
