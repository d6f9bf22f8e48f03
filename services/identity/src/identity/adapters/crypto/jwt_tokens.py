"""Access tokens as EdDSA-signed JWTs (RFC 9068 profile), with PyJWT."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

import jwt

from identity.adapters.crypto.signing_keys import ActiveKeySource
from identity.application.security import IssuedToken
from shared.auth.principal import ROLES

ALGORITHM: Final = "EdDSA"
# RFC 9068 §2.1: marks an OAuth access token, so no other JWT (an OIDC ID token, a
# third party's) can be replayed as one; shared.auth.TokenVerifier insists on it.
HEADER_TYP: Final = "at+jwt"
DEFAULT_TTL: Final = timedelta(minutes=15)


class JwtAccessTokenIssuer:
    """:class:`~identity.application.security.AccessTokenIssuer` signing with the active Ed25519 key.

    Header ``{"alg": "EdDSA", "typ": "at+jwt", "kid": ...}``; claims ``iss aud sub role
    sid jti iat exp``, with ``sub``/``sid`` as UUID strings and a random 128-bit ``jti``.
    """

    def __init__(
        self, keys: ActiveKeySource, *, issuer: str, audience: str, ttl: timedelta = DEFAULT_TTL
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError("the access-token lifetime must be positive")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._ttl_seconds = int(ttl.total_seconds())

    @property
    def ttl_seconds(self) -> int:
        return self._ttl_seconds

    def issue(self, *, user_id: UUID, role: str, session_id: UUID, now: datetime) -> IssuedToken:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        key = self._keys.active_key()
        issued_at = int(now.timestamp())
        jti = secrets.token_urlsafe(16)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "role": role,
            "sid": str(session_id),
            "jti": jti,
            "iat": issued_at,
            "exp": issued_at + self._ttl_seconds,
        }
        token = jwt.encode(
            claims, key.private_key, algorithm=ALGORITHM, headers={"typ": HEADER_TYP, "kid": key.kid}
        )
        return IssuedToken(token=token, expires_in=self._ttl_seconds, jti=jti)
