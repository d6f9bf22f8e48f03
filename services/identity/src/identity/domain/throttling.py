"""Attempts counted in a sliding window: brute-force protection and mail limits.

Logins and password confirmations are throttled so that guessing stays bounded per account
while nobody can keep the owner out (no lockout denial of service):

* per (account, client): a client (its IP, or a known device) gets ``per_account`` failures
  on one account in the window, then 429 until the oldest leaves it. Failures elsewhere do
  not count against it: an attacker's guesses never refuse the owner's client.
* per client: ``per_address`` failures in the window, whatever the accounts (several people
  may share one address, so the limit is higher).
* per account, from clients it does not know: beyond ``slowdown_after`` failures in the
  window, each further attempt waits after the newest failure a delay doubling from one
  second up to ``max_delay`` (:func:`slowdown`): the account is slowed down, never shut. With
  the defaults (20, 60 s, 15 minutes) at most :func:`account_bound` = 41 guesses per window
  reach an account from unknown clients, about 3,900 a day, whoever makes them.
* a known device (one that signed in to the account before, remembered by an opaque cookie)
  with the right password is let through the account's slowdown and the client limit; it has
  its own ``per_account`` limit, so a stolen cookie does not lift the bound either.

Every attempt is counted under the account too, known device or not, and a success takes
its count back: an owner's sign-in never resets what an attacker has used up.

The address typed is the key (``canonical_email``), whether or not an account has it, so a
throttled account looks exactly like a hammered unknown address.

Mailed links (password reset, email verification): at most ``mails_per_address`` links
go to one address in the window, so nobody can flood someone's inbox; and one client
address may ask for at most ``mail_requests_per_client`` links in the window, whatever
the addresses, so nobody can spray reset mails at every address they know.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from identity.domain.emails import canonical_email

WINDOW: Final = timedelta(minutes=15)
KNOWN_DEVICE_TTL: Final = timedelta(days=90)
"""A device that has not signed in to an account for this long is no longer known to it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottlePolicy:
    window: timedelta = WINDOW
    per_account: int = 10
    """Failures on one account from one client (IP or known device)."""
    per_address: int = 100
    """Failures from one client IP, whatever the accounts."""
    slowdown_after: int = 20
    """Failures on one account from unknown clients before each further attempt waits."""
    max_delay: timedelta = timedelta(seconds=60)
    """The longest wait the account slowdown imposes between two attempts."""
    mails_per_address: int = 3
    mail_requests_per_client: int = 20
    registrations_per_client: int = 20
    """Sign-up attempts from one client IP, whatever their outcome."""
    known_device_ttl: timedelta = KNOWN_DEVICE_TTL


def account_key(email: str) -> str:
    """The throttle key of a typed address: its canonical form, the one accounts are matched on."""
    return f"account:{canonical_email(email)}"


def account_client_key(email: str, ip: str | None) -> str:
    """The key of one client's attempts on one account (``ip`` None: a client without one)."""
    return f"account-client:{canonical_email(email)}|{ip or ''}"


def device_key(email: str, device: str) -> str:
    """The key of a known device's attempts on one account (``device``: its cookie's token)."""
    return f"device:{canonical_email(email)}|{device}"


def address_key(ip: str) -> str:
    return f"address:{ip}"


def mail_key(email: str) -> str:
    """The key of the links mailed to an address (its canonical form, as for logins)."""
    return f"mail:{canonical_email(email)}"


def registration_client_key(ip: str) -> str:
    return f"registration-client:{ip}"


def mail_client_key(ip: str) -> str:
    return f"mail-client:{ip}"


def retry_after(failures: Sequence[datetime], *, limit: int, window: timedelta, now: datetime) -> int | None:
    """Seconds until another attempt is allowed, or ``None`` if it is allowed now.

    ``failures``: the key's newest failure times, in any order (at least
    ``limit`` of them if there are that many).
    """
    recent = sorted((at for at in failures if now - at < window), reverse=True)
    if len(recent) < limit:
        return None
    # Once the limit-th newest failure leaves the window, fewer than ``limit`` remain.
    wait = (recent[limit - 1] + window - now).total_seconds()
    return max(1, math.ceil(wait))


def slowdown(failures: Sequence[datetime], policy: ThrottlePolicy, *, now: datetime) -> int | None:
    """Seconds an attempt on an account from an unknown client must still wait, or ``None``.

    ``failures``: the account's failure times, all of those in the window (at least
    :func:`account_bound` of them if there are that many). Past ``slowdown_after`` failures,
    an attempt may come 1, 2, 4 ... seconds (at most ``max_delay``) after the newest one.
    """
    recent = sorted((at for at in failures if now - at < policy.window), reverse=True)
    excess = len(recent) - policy.slowdown_after
    if excess < 0:
        return None
    delay = min(policy.max_delay.total_seconds(), 2.0**excess)
    wait = (recent[0] + timedelta(seconds=delay) - now).total_seconds()
    return max(1, math.ceil(wait)) if wait > 0 else None


def account_bound(policy: ThrottlePolicy) -> int:
    """The most failures :func:`slowdown` lets reach one account from unknown clients in a window.

    ``slowdown_after`` at once, then one per doubling delay until the cap (1 + 2 + ... < cap),
    then one per ``max_delay``: a bound however many clients take part.
    """
    cap = policy.max_delay.total_seconds()
    doublings = math.ceil(math.log2(cap)) if cap > 1 else 0
    return policy.slowdown_after + doublings + math.ceil(policy.window.total_seconds() / cap)
