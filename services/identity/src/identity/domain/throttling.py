"""Brute-force protection for logins: failed attempts counted in a sliding window.

Failures are counted per account (the address typed, whether or not an account has
it, so a locked account looks exactly like a hammered unknown address) and per
client address (with a higher limit: several people may share one). Once a key has
``limit`` failures in the window, further attempts are refused without checking the
password until the oldest of those failures leaves the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

WINDOW: Final = timedelta(minutes=15)


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottlePolicy:
    window: timedelta = WINDOW
    per_account: int = 10
    per_address: int = 100


def account_key(email: str) -> str:
    """The throttle key of a typed address (case-insensitive, as accounts are matched)."""
    return f"account:{email.strip().casefold()}"


def address_key(ip: str) -> str:
    return f"address:{ip}"


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
