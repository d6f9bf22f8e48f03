"""JwtAccessTokenIssuer: exact header and claims, verified by PyJWT and the shared verifier."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from services.identity.tests.unit.fakes import SteppingClock

from identity.adapters.crypto.jwt_tokens import JwtAccessTokenIssuer
from identity.adapters.crypto.signing_keys import ConfiguredSigningKeys, FileSigningKeys
from identity.application.ports import AccessTokenIssuer
from shared.auth import InvalidToken, JwksKeySet, TokenVerifier

ISSUER = "http://identity.test"
AUDIENCE = "aiorch"
JWKS_URL = "http://identity.test/.well-known/jwks.json"
USER = UUID("0190a4c6-7d2e-7b3a-9f1e-5c2d8a6b4e10")
SESSION = UUID("0190a4c6-7d2e-7b3a-9f1e-5c2d8a6b4e11")
OVERLAP = timedelta(hours=1)


@pytest.fixture
def now():
    # Real time, because PyJWT checks exp and iat against the wall clock.
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def clock(now):
    return SteppingClock(now)


@pytest.fixture
def keys(tmp_path, clock):
    return FileSigningKeys(tmp_path / "identity-keys", clock=clock)


@pytest.fixture
def issuer(keys):
    return JwtAccessTokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def jwks_requests():
    return []


@pytest.fixture
async def verifier(keys, jwks_requests, monotonic):
    """The shared guard's verifier, fetching our live jwks() over an in-memory HTTP transport."""

    def serve(request: httpx.Request) -> httpx.Response:
        jwks_requests.append(request.url)
        return httpx.Response(200, json=keys.jwks())

    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as client:
        key_set = JwksKeySet(JWKS_URL, client, clock=monotonic)
        yield TokenVerifier(key_set, issuer=ISSUER, audience=AUDIENCE)


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def pyjwt_decode(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(
        token,
        key,
        algorithms=["EdDSA"],
        issuer=ISSUER,
        audience=AUDIENCE,
        options={"require": ["iss", "aud", "sub", "role", "sid", "jti", "iat", "exp"]},
    )


def test_it_implements_the_port(issuer):
    port: AccessTokenIssuer = issuer
    assert port is issuer


def test_the_header_is_exactly_eddsa_at_jwt_and_the_active_kid(issuer, keys, now):
    issued = issuer.issue(user_id=USER, role="user", session_id=SESSION, now=now)

    assert jwt.get_unverified_header(issued.token) == {
        "alg": "EdDSA",
        "typ": "at+jwt",
        "kid": keys.current_kid(),
    }


def test_the_claims_are_exactly_the_documented_ones(issuer, now):
    issued = issuer.issue(user_id=USER, role="admin", session_id=SESSION, now=now)

    issued_at = int(now.timestamp())
    assert claims_of(issued.token) == {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(USER),
        "role": "admin",
        "sid": str(SESSION),
        "jti": issued.jti,
        "iat": issued_at,
        "exp": issued_at + 15 * 60,
    }


def test_the_default_lifetime_is_15_minutes(issuer, now):
    assert issuer.issue(user_id=USER, role="user", session_id=SESSION, now=now).expires_in == 900


def test_the_lifetime_is_configurable(keys, now):
    issuer = JwtAccessTokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE, ttl=timedelta(minutes=5))
    issued = issuer.issue(user_id=USER, role="user", session_id=SESSION, now=now)

    claims = claims_of(issued.token)
    assert issued.expires_in == claims["exp"] - claims["iat"] == 300


def test_a_non_positive_lifetime_is_refused(keys):
    with pytest.raises(ValueError, match="positive"):
        JwtAccessTokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE, ttl=timedelta(0))


def test_every_token_has_its_own_128_bit_jti(issuer, now):
    jtis = {issuer.issue(user_id=USER, role="user", session_id=SESSION, now=now).jti for _ in range(100)}
    assert len(jtis) == 100
    assert all(len(base64.urlsafe_b64decode(jti + "==")) == 16 for jti in jtis)


def test_a_naive_now_is_refused(issuer):
    with pytest.raises(ValueError, match="timezone-aware"):
        issuer.issue(user_id=USER, role="user", session_id=SESSION, now=datetime(2030, 1, 1))


def test_an_unknown_role_is_refused(issuer, now):
    with pytest.raises(ValueError, match="unknown role"):
        issuer.issue(user_id=USER, role="superuser", session_id=SESSION, now=now)


def test_the_token_never_shows_in_a_repr(issuer, now):
    issued = issuer.issue(user_id=USER, role="user", session_id=SESSION, now=now)
    assert issued.token not in repr(issued)


# Verification with plain PyJWT against the published JWKS


def test_a_token_verifies_with_pyjwt_against_the_published_jwks(issuer, keys, now):
    issued = issuer.issue(user_id=USER, role="user", session_id=SESSION, now=now)

    claims = pyjwt_decode(issued.token, keys.jwks())

    assert (claims["sub"], claims["sid"], claims["role"]) == (str(USER), str(SESSION), "user")


def test_a_token_signed_with_a_configured_pem_verifies_with_pyjwt(now):
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    keys = ConfiguredSigningKeys(pem.decode())
    issuer = JwtAccessTokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE)

    issued = issuer.issue(user_id=USER, role="user", session_id=SESSION, now=now)

    assert pyjwt_decode(issued.token, keys.jwks())["jti"] == issued.jti


def test_a_tampered_token_fails_pyjwt_verification(issuer, keys, now):
    header, payload, signature = issuer.issue(
        user_id=USER, role="user", session_id=SESSION, now=now
    ).token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    with pytest.raises(jwt.InvalidSignatureError):
        pyjwt_decode(f"{header}.{forged}.{signature}", keys.jwks())


# Verification with the shared guard's TokenVerifier + JwksKeySet


async def test_a_token_verifies_with_the_shared_verifier(issuer, verifier, now):
    issued = issuer.issue(user_id=USER, role="admin", session_id=SESSION, now=now)

    principal = await verifier.verify(issued.token)

    assert (principal.user_id, principal.role, principal.session_id) == (USER, "admin", SESSION)
    assert principal.token_id == issued.jti
    assert principal.expires_at == now + timedelta(minutes=15)


async def test_the_shared_verifier_refuses_a_token_for_another_audience(keys, verifier, now):
    other = JwtAccessTokenIssuer(keys, issuer=ISSUER, audience="someone-else")
    token = other.issue(user_id=USER, role="user", session_id=SESSION, now=now).token

    with pytest.raises(InvalidToken, match="audience"):
        await verifier.verify(token)


async def test_the_shared_verifier_refuses_an_expired_token(issuer, verifier, now):
    token = issuer.issue(user_id=USER, role="user", session_id=SESSION, now=now - timedelta(hours=1)).token

    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(token)


# Rotation


async def test_after_rotation_old_tokens_verify_until_the_old_key_is_retired(
    issuer, keys, verifier, clock, monotonic, now, jwks_requests
):
    old_token = issuer.issue(user_id=USER, role="user", session_id=SESSION, now=now).token
    assert await verifier.verify(old_token)

    keys.rotate(overlap=OVERLAP, now=now)
    new_token = issuer.issue(user_id=USER, role="user", session_id=SESSION, now=now).token

    # The new kid is unknown to the cached set: the verifier refetches and learns it.
    assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
    assert await verifier.verify(new_token)
    assert await verifier.verify(old_token)
    assert pyjwt_decode(old_token, keys.jwks())
    assert pyjwt_decode(new_token, keys.jwks())
    assert len(jwks_requests) == 2

    clock.advance(OVERLAP)
    keys.retire_expired(now=clock.now())
    monotonic.value += 301  # past the verifier's JWKS cache lifetime

    assert await verifier.verify(new_token)
    with pytest.raises(InvalidToken, match="unknown kid"):
        await verifier.verify(old_token)
    with pytest.raises(KeyError):
        pyjwt_decode(old_token, keys.jwks())
