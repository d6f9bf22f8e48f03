"""Single-use tokens mailed to the user: password reset and email verification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final
from uuid import UUID

ONE_TIME_TOKEN_TTL: Final = timedelta(minutes=15)


class TokenPurpose(StrEnum):
    """What a token may be used for; a token of one purpose is worthless for the other."""

    RESET = "reset"
    VERIFY_EMAIL = "verify_email"


@dataclass(slots=True, kw_only=True)
class OneTimeToken:
    """Only the digest of the secret is kept; the plaintext exists in the mail alone."""

    digest: bytes
    purpose: TokenPurpose
    user_id: UUID
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    @classmethod
    def issue(
        cls,
        *,
        digest: bytes,
        purpose: TokenPurpose,
        user_id: UUID,
        now: datetime,
        ttl: timedelta = ONE_TIME_TOKEN_TTL,
    ) -> OneTimeToken:
        return cls(digest=digest, purpose=purpose, user_id=user_id, created_at=now, expires_at=now + ttl)

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at
