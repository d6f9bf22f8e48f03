"""What an ID token must pass before we believe it (OIDC Core 3.1.3.7), as pure functions.

The signature is PyJWT's to check, with a key the provider publishes and an algorithm we
accept (RS256, ES256, EdDSA; never ``none``, never HS256 keyed with the client secret).
The claims are checked here, one rule at a time, so each failure carries its own reason,
against the caller's clock rather than PyJWT's.
"""

from __future__ import annotations

import hmac
from typing import Any

import jwt
from jwt.types import Options

from identity.application.oidc import OidcError, OidcFailure, OidcIdentity

# The key type (and curve) each accepted algorithm needs.
_KEY_TYPES: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "EdDSA": ("OKP", "Ed25519"),
}
# The signature only (and no RSA key under 2048 bits): the claims are checked below.
_SIGNATURE_ONLY = Options(
    verify_exp=False,
    verify_iat=False,
    verify_nbf=False,
    verify_aud=False,
    verify_iss=False,
    enforce_minimum_key_length=True,
)


def signing_header(token: str) -> tuple[str, str | None]:
    """The token's algorithm, if accepted, and its key id."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise OidcError(OidcFailure.INVALID_ID_TOKEN, "the ID token is not a JWS") from exc
    algorithm, kid = header.get("alg"), header.get("kid")
    if not isinstance(algorithm, str) or algorithm not in _KEY_TYPES:
        raise OidcError(OidcFailure.INVALID_ID_TOKEN, f"algorithm {str(algorithm)[:16]!r} not accepted")
    return algorithm, kid if isinstance(kid, str) else None


def pick_key(keys: list[dict[str, Any]], kid: str | None, algorithm: str) -> jwt.PyJWK | None:
    """The published key for ``kid`` usable with ``algorithm``; without a kid, the only such key."""
    kty, crv = _KEY_TYPES[algorithm]
    found = [
        jwk
        for jwk in keys
        if (kid is None or jwk.get("kid") == kid)
        and jwk.get("kty") == kty
        and jwk.get("crv") == crv
        and jwk.get("alg", algorithm) == algorithm
        and jwk.get("use", "sig") == "sig"
        and "d" not in jwk  # never trust private key material published by mistake
    ]
    if len(found) != 1:
        return None
    try:
        return jwt.PyJWK(found[0], algorithm=algorithm)
    except jwt.PyJWTError:
        return None


def signed_claims(token: str, key: jwt.PyJWK, algorithm: str) -> dict[str, Any]:
    """The claims, once the signature verifies; nothing else is checked yet."""
    try:
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=[algorithm], options=_SIGNATURE_ONLY)
    except jwt.InvalidSignatureError as exc:
        raise OidcError(OidcFailure.BAD_SIGNATURE, "the ID token's signature does not verify") from exc
    except jwt.PyJWTError as exc:
        raise OidcError(OidcFailure.INVALID_ID_TOKEN, "the ID token cannot be decoded") from exc
    return claims


def check_claims(
    claims: dict[str, Any], *, issuer: str, client_id: str, nonce: str, now: float, leeway: float
) -> None:
    """Steps 2-4 and 9-11: issuer, audience (and ``azp``), expiry, issue time, nonce; and a subject."""
    if claims.get("iss") != issuer:
        raise OidcError(OidcFailure.WRONG_ISSUER, "the ID token was issued by someone else")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise OidcError(OidcFailure.WRONG_AUDIENCE, "the ID token is not meant for this client")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise OidcError(OidcFailure.WRONG_AUDIENCE, "the ID token was issued to another party (azp)")
    exp, iat, nbf = (_number(claims.get(name)) for name in ("exp", "iat", "nbf"))
    if exp is None or iat is None:
        raise OidcError(OidcFailure.INVALID_ID_TOKEN, "the ID token lacks exp or iat")
    if now >= exp + leeway:
        raise OidcError(OidcFailure.EXPIRED_ID_TOKEN, "the ID token has expired")
    if iat > now + leeway or (nbf is not None and nbf > now + leeway):
        raise OidcError(OidcFailure.INVALID_ID_TOKEN, "the ID token is not valid yet")
    received = claims.get("nonce")
    if not isinstance(received, str) or not hmac.compare_digest(received.encode(), nonce.encode()):
        raise OidcError(OidcFailure.NONCE_MISMATCH, "the ID token does not answer this login")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise OidcError(OidcFailure.INVALID_ID_TOKEN, "the ID token has no valid subject")


def identity_from(claims: dict[str, Any]) -> OidcIdentity:
    """The identity in checked claims; an email counts as verified only if it is there and says so."""
    email, name = _text(claims.get("email")), _text(claims.get("name"))
    verified = claims.get("email_verified")
    return OidcIdentity(
        issuer=claims["iss"],
        subject=claims["sub"],
        email=email,
        # Some providers send the string "true" where OIDC Core 5.1 says boolean.
        email_verified=email is not None and (verified is True or verified == "true"),
        name=name,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
