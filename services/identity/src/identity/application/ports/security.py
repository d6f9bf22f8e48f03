"""The cryptographic ports: passwords, access tokens, signing keys, secret tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from identity.application.security import IssuedToken, NewSecret


class KeyStoreError(Exception):
    """The signing-key store is unreadable, inconsistent, or cannot do what was asked."""


class PasswordHasher(Protocol):
    """Turns passwords into slow, salted, self-describing hashes and checks them.

    Hashing and verifying are CPU- and memory-hard on purpose, so they run off the
    event loop: awaiting them never blocks other requests.
    """

    async def hash(self, password: str, /) -> str:
        """A fresh hash of ``password`` (new random salt, current parameters)."""
        ...

    async def verify(self, hash: str, password: str, /) -> bool:
        """Whether ``password`` matches ``hash``.

        Compares in constant time. Never raises because of the hash: a malformed or
        unsupported hash is simply no match (``False``).
        """
        ...

    async def verify_dummy(self, password: str, /) -> bool:
        """Spend the time of a real :meth:`verify` and answer ``False``.

        For a login naming no account (or one without a password), so that its
        response time does not tell whether the account exists.
        """
        ...

    def needs_rehash(self, hash: str, /) -> bool:
        """Whether ``hash`` was made with other parameters than the current ones.

        Call it after a successful :meth:`verify` and store a fresh hash if so. A
        hash this hasher cannot read needs rehashing too.
        """
        ...


class AccessTokenIssuer(Protocol):
    """Mints short-lived access tokens that the other services verify locally.

    Tokens are JWTs signed with the current signing key, whose ``kid`` is in the
    header; they carry ``iss aud sub role sid jti iat exp`` and a ``typ`` that tells
    them apart from any other JWT. ``now`` must be timezone-aware.
    """

    def issue(self, *, user_id: UUID, role: str, session_id: UUID, now: datetime) -> IssuedToken: ...


class SigningKeys(Protocol):
    """The key ring that signs access tokens and the public half the world verifies with.

    A key goes *next* → *active* → *previous* → *retired*. A *next* key (at most one) is
    published but does not sign yet, so that verifiers caching the key set hold it before
    its first token. Exactly one key is *active* (it signs). When the next key's
    activation time comes it is active, by the clock alone, and the former active key is
    *previous*: it no longer signs but stays published until its overlap has passed, so
    tokens it signed keep verifying until they expire. Then it is *retired*: no longer
    published, and its tokens are refused.
    """

    def current_kid(self) -> str:
        """The key id (RFC 7638 thumbprint) of the active key."""
        ...

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set (RFC 7517): the active key, the next key if any, and every
        previous key not yet due for retirement. Never any private key material.

        While the set is unchanged the same object may be answered again: callers treat
        it as read-only, and may keep what they derive from it until they get another.
        """
        ...

    def rotate(self, *, overlap: timedelta, now: datetime, publish_ahead: timedelta = timedelta(0)) -> str:
        """Make a new key that signs from ``now + publish_ahead``; the key signing until then
        stays published for ``overlap`` after that.

        ``publish_ahead`` must cover verifiers' JWKS cache time, so none of them meets a
        token whose key it has not fetched yet; 0 switches at once (an emergency). A next
        key still pending is replaced by the new one: it never signed anything.
        ``overlap`` must cover the access-token lifetime plus verifiers' JWKS cache time.
        Returns the new key's id.
        """
        ...

    def retire_expired(self, *, now: datetime) -> list[str]:
        """Drop the previous keys whose overlap has passed; returns their ids."""
        ...


class SecretTokens(Protocol):
    """Opaque bearer secrets: refresh, password-reset and email-verification tokens.

    Each token carries at least 128 random bits, URL-safe, so it fits a link or a
    JSON body as is. Only its digest is stored; a presented token is looked up by
    the digest of what was presented.
    """

    def new(self) -> NewSecret: ...

    def digest(self, plaintext: str) -> bytes:
        """The stored form of ``plaintext``: deterministic, so it can be an index key.

        A fast hash (SHA-256) suffices here, unlike for passwords: slow hashes exist
        to make guessing low-entropy inputs expensive, but these tokens are 128+
        random bits, so a stolen digest cannot be reversed by guessing anyway.
        """
        ...
