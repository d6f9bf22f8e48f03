"""Opaque bearer secrets (refresh, password-reset, email-verification tokens)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

from identity.application.security import NewSecret

TOKEN_BYTES: Final = 32  # 256 random bits; the port asks for at least 128


class UrlSafeSecretTokens:
    """:class:`~identity.application.security.SecretTokens`: ``secrets.token_urlsafe`` and SHA-256.

    SHA-256 rather than a slow password hash: the token is 256 bits from the OS's
    CSPRNG, so a leaked digest gives nothing to brute-force, and a fast, deterministic
    digest lets the database find the token by an index lookup.
    """

    def new(self) -> NewSecret:
        plaintext = secrets.token_urlsafe(TOKEN_BYTES)
        return NewSecret(plaintext, self.digest(plaintext))

    def digest(self, plaintext: str) -> bytes:
        # Presented tokens are untrusted input: never fail on odd text, it simply matches nothing.
        return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).digest()
