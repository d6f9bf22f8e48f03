"""Attempts counted in a sliding window: brute-force protection and mail limits.

Logins: failures are counted per account (the address typed, whether or not an account
has it, so a locked account looks exactly like a hammered unknown address) and per
client address (with a higher limit: several people may share one). Once a key has
``limit`` failures in the window, further attempts are refused without checking the
password until the oldest of those failures leaves the window.

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


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottlePolicy:
    window: timedelta = WINDOW
    per_account: int = 10
    per_address: int = 100
    mails_per_address: int = 3
    mail_requests_per_client: int = 20


def account_key(email: str) -> str:
    """The throttle key of a typed address: its canonical form, the one accounts are matched on."""
    return f"account:{canonical_email(email)}"


def address_key(ip: str) -> str:
    return f"address:{ip}"


def mail_key(email: str) -> str:
    """The key of the links mailed to an address (its canonical form, as for logins)."""
    return f"mail:{canonical_email(email)}"


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
