"""Access-token verification: an EdDSA-signed JWT in, a :class:`Principal` out."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple, Protocol, cast
from uuid import UUID

import jwt
from jwt import PyJWK

from shared.auth.principal import ROLES, Principal, Role

ALGORITHM: Final = "EdDSA"
REQUIRED_CLAIMS: Final = ("iss", "aud", "sub", "role", "sid", "jti", "iat", "exp")
# RFC 9068 §2.1: "at+jwt"; RFC 7515 §4.1.9 lets the "application/" prefix appear too.
_ACCESS_TOKEN_TYPES: Final = frozenset({"at+jwt", "application/at+jwt"})
# Far above any token identity issues; bounds the work an oversized header can cause.
_MAX_TOKEN_LENGTH: Final = 8192
DEFAULT_CACHE_SIZE: Final = 10_000
DEFAULT_MAX_LIFETIME_S: Final = 900.0
"""identity's access tokens live 15 minutes; one signed to live longer (a leaked key's ten-year
token) is refused."""


class InvalidToken(Exception):
    """The access token is not acceptable. ``reason`` is for logs: it never holds the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyLookup(Protocol):
    """Where verification keys come from (the identity service's JWKS, or a fake).

    ``get`` returns ``None`` when no key has that id, having refetched if the rate
    limit allows; it raises ``JwksFetchError`` when no key at all is available.
    """

    async def get(self, kid: str) -> PyJWK | None: ...


class Admission(Protocol):
    """A check each verified principal passes on every request, after the token's own checks
    (``shared.auth.revocations.Revocations``: identity's revocations and role changes).

    ``admit`` returns the principal to use (perhaps changed) or raises ``InvalidToken``; it
    may raise another exception that the guard maps (``RevocationsUnknown``: 503).
    """

    def admit(self, principal: Principal) -> Principal: ...


_REASONS: Final[tuple[tuple[type[jwt.PyJWTError], str], ...]] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "audience mismatch"),
    (jwt.InvalidIssuerError, "issuer mismatch"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.InvalidIssuedAtError, "malformed iat claim"),
    (jwt.DecodeError, "malformed token"),
)


class _Verified(NamedTuple):
    principal: Principal
    kid: str
    key: PyJWK
    """The key object the signature was checked with: a refetched or rotated key set holds others."""
    expires: float
    """The token's ``exp``, in seconds since the epoch."""


class TokenVerifier:
    """Verifies access tokens issued by identity, locally (no call per request).

    Accepted only if: signed with EdDSA by a key the JWKS publishes under the header's
    ``kid``; header ``typ`` is ``at+jwt``; ``iss`` and ``aud`` match; every claim of
    ``REQUIRED_CLAIMS`` is present; not expired (within ``leeway``); issued to live no longer
    than ``max_lifetime`` seconds (``exp - iat``, within ``leeway``); ``sub`` and ``sid`` are
    UUIDs and ``role`` is a known role.

    A token that passed is remembered (at most ``cache_size`` of them, the least recently
    used forgotten first; 0 remembers none) until its ``exp``, so a client presenting the
    same token again is not charged the signature check and claim decoding a second time.
    A remembered token is served only while the key that verified it is still the one
    ``keys`` gives for its ``kid``: a retired or replaced key sends it through the full
    verification again. Tokens are remembered by their SHA-256 digest, never in clear, and
    only the exact same token string matches. What a subclass checks beyond the token
    itself (a live session...) is not remembered, nor is ``admission``'s answer: it is asked
    on every call, so a revocation it learns of applies to remembered tokens at once.
    """

    def __init__(
        self,
        keys: KeyLookup,
        *,
        issuer: str,
        audience: str,
        leeway: float | timedelta = 30.0,
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock: Callable[[], float] = time.time,
        admission: Admission | None = None,
        max_lifetime: float = DEFAULT_MAX_LIFETIME_S,
    ) -> None:
        if cache_size < 0:
            raise ValueError("cache_size cannot be negative")
        self._max_lifetime = max_lifetime
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway.total_seconds() if isinstance(leeway, timedelta) else leeway
        self._cache_size = cache_size
        self._admission = admission
        self._clock = clock
        self._verified: OrderedDict[bytes, _Verified] = OrderedDict()

    @property
    def cached(self) -> int:
        """How many verified tokens are remembered now."""
        return len(self._verified)

    async def verify(self, token: str) -> Principal:
        """The caller the token speaks for.

        Raises:
            InvalidToken: the token must be refused (the caller answers 401).
            JwksFetchError: no verification key is available at all (the caller answers 503).
            Exception: whatever ``admission`` raises besides ``InvalidToken``.
        """
        principal = await self._principal(token)
        return principal if self._admission is None else self._admission.admit(principal)

    async def _principal(self, token: str) -> Principal:
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            raise InvalidToken("malformed token")
        if not self._cache_size:
            return (await self._verify_fully(token)).principal
        digest = hashlib.sha256(token.encode()).digest()
        # Taken out while checked, put back (as the most recently used) only if still good.
        known = self._verified.pop(digest, None)
        if (
            known is not None
            and self._clock() < known.expires
            and await self._keys.get(known.kid) is known.key
        ):
            self._remember(digest, known)
            return known.principal
        verified = await self._verify_fully(token)
        if self._clock() < verified.expires:
            self._remember(digest, verified)
        return verified.principal

    def _remember(self, digest: bytes, verified: _Verified) -> None:
        self._verified[digest] = verified
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)

    async def _verify_fully(self, token: str) -> _Verified:
        header = _unverified_header(token)
        # Checked before any key lookup, so forged headers cannot trigger JWKS fetches.
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm not allowed")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _ACCESS_TOKEN_TYPES:
            raise InvalidToken("not an access token (typ)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("missing kid")
        key = await self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown kid")
        principal = _principal(self._decode(token, key))
        expires = principal.expires_at.timestamp()
        issued = principal.issued_at
        if issued is None or expires - issued.timestamp() > self._max_lifetime + self._leeway:
            raise InvalidToken("lifetime (exp - iat) longer than allowed")
        return _Verified(principal, kid, key, expires)

    def _decode(self, token: str, key: PyJWK) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"missing claim {exc.claim}") from None
        except jwt.PyJWTError as exc:
            reason = next((text for kind, text in _REASONS if isinstance(exc, kind)), None)
            raise InvalidToken(reason or f"rejected ({type(exc).__name__})") from None


def _unverified_header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("malformed token") from None


def _principal(claims: dict[str, Any]) -> Principal:
    role = claims["role"]
    if not isinstance(role, str) or role not in ROLES:
        raise InvalidToken("unknown role")
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti:
        raise InvalidToken("malformed jti claim")
    return Principal(
        user_id=_uuid(claims["sub"], "sub"),
        role=cast(Role, role),
        session_id=_uuid(claims["sid"], "sid"),
        token_id=jti,
        expires_at=_instant(claims["exp"], "exp"),
        issued_at=_instant(claims["iat"], "iat"),
    )


def _instant(value: Any, claim: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise InvalidToken(f"malformed {claim} claim") from None


def _uuid(value: Any, claim: str) -> UUID:
    if not isinstance(value, str):
        raise InvalidToken(f"malformed {claim} claim")
    try:
        return UUID(value)
    except ValueError:
        raise InvalidToken(f"malformed {claim} claim") from None
