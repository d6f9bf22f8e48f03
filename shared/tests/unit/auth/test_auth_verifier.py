"""TokenVerifier against a real loopback JWKS server: what is accepted, what is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx
import msgspec
import pytest

from shared.auth import InvalidToken, JwksFetchError, JwksKeySet, Principal, TokenVerifier

if TYPE_CHECKING:
    from .conftest import FakeClock, JwksServer, Signer

ISSUER = "http://identity.test"
AUDIENCE = "aiorch"
INTERVAL = 30.0
TTL = 300.0
LEEWAY = 30


@pytest.fixture
def keys(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: FakeClock, signer: Signer
) -> JwksKeySet:
    jwks_server.publish(signer.public_jwk)
    return JwksKeySet(jwks_server.url, http_client, ttl=TTL, min_refetch_interval=INTERVAL, clock=clock)


@pytest.fixture
def verifier(keys: JwksKeySet) -> TokenVerifier:
    return TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway=LEEWAY)


async def refused(verifier: TokenVerifier, token: str, reason: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    assert caught.value.reason == reason
    assert token not in str(caught.value)
    return caught.value


def hs256(secret: bytes) -> Callable[[bytes], bytes]:
    return lambda signing_input: hmac.new(secret, signing_input, hashlib.sha256).digest()


def replace_segment(token: str, index: int, value: str) -> str:
    parts = token.split(".")
    parts[index] = value
    return ".".join(parts)


def b64url_json(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# Accepted


@pytest.mark.asyncio
async def test_a_valid_access_token_gives_its_principal(verifier: TokenVerifier, signer: Signer) -> None:
    claims = signer.claims()
    token = signer.mint(**claims)

    principal = await verifier.verify(token)

    assert principal == Principal(
        user_id=UUID(claims["sub"]),
        role="user",
        session_id=UUID(claims["sid"]),
        token_id=claims["jti"],
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        issued_at=datetime.fromtimestamp(claims["iat"], UTC),
    )
    assert not principal.is_admin


@pytest.mark.asyncio
async def test_an_admin_token_gives_an_admin_principal(verifier: TokenVerifier, signer: Signer) -> None:
    principal = await verifier.verify(signer.mint(role="admin"))

    assert principal.is_admin


@pytest.mark.asyncio
@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT"])
async def test_the_access_token_type_is_matched_like_a_media_type(
    verifier: TokenVerifier, signer: Signer, typ: str
) -> None:
    assert await verifier.verify(signer.mint(headers={"typ": typ}))


@pytest.mark.asyncio
async def test_an_audience_list_containing_ours_is_accepted(verifier: TokenVerifier, signer: Signer) -> None:
    assert await verifier.verify(signer.mint(aud=["orchestrator", AUDIENCE]))


@pytest.mark.asyncio
async def test_a_token_expired_within_the_leeway_is_accepted(verifier: TokenVerifier, signer: Signer) -> None:
    now = int(datetime.now(UTC).timestamp())

    assert await verifier.verify(signer.mint(iat=now - 600, exp=now - LEEWAY // 2))


@pytest.mark.asyncio
async def test_the_leeway_can_be_a_timedelta(keys: JwksKeySet, signer: Signer) -> None:
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway=timedelta(minutes=5))
    now = int(datetime.now(UTC).timestamp())

    assert await verifier.verify(signer.mint(iat=now - 900, exp=now - 240))


@pytest.mark.asyncio
async def test_the_principal_round_trips_through_json(verifier: TokenVerifier, signer: Signer) -> None:
    principal = await verifier.verify(signer.mint())

    assert msgspec.json.decode(msgspec.json.encode(principal), type=Principal) == principal
    with pytest.raises(AttributeError):
        principal.role = "admin"  # type: ignore[misc]


# Key rotation and unknown key ids


@pytest.mark.asyncio
async def test_a_token_signed_with_a_rotated_in_key_is_accepted_after_one_refetch(
    verifier: TokenVerifier, jwks_server: JwksServer, signer: Signer, successor: Signer
) -> None:
    await verifier.verify(signer.mint())
    assert jwks_server.hits == 1

    jwks_server.publish(signer.public_jwk, successor.public_jwk)
    principal = await verifier.verify(successor.mint(role="admin"))

    assert principal.is_admin
    assert jwks_server.hits == 2
    await verifier.verify(signer.mint())
    await verifier.verify(successor.mint())
    assert jwks_server.hits == 2


@pytest.mark.asyncio
async def test_a_token_of_a_retired_key_is_refused_once_the_cache_refreshes(
    verifier: TokenVerifier, jwks_server: JwksServer, clock: FakeClock, signer: Signer, successor: Signer
) -> None:
    old_token = signer.mint()
    await verifier.verify(old_token)

    jwks_server.publish(successor.public_jwk)
    clock.advance(TTL)

    await refused(verifier, old_token, "unknown kid")
    assert await verifier.verify(successor.mint())


@pytest.mark.asyncio
async def test_an_unknown_kid_refetches_once_then_is_refused_without_more_fetches(
    verifier: TokenVerifier, jwks_server: JwksServer, clock: FakeClock, signer: Signer
) -> None:
    await verifier.verify(signer.mint())
    assert jwks_server.hits == 1

    await refused(verifier, signer.mint(headers={"kid": "forged-1"}), "unknown kid")
    assert jwks_server.hits == 2

    await refused(verifier, signer.mint(headers={"kid": "forged-2"}), "unknown kid")
    await refused(verifier, signer.mint(headers={"kid": "forged-1"}), "unknown kid")
    assert jwks_server.hits == 2

    clock.advance(INTERVAL)
    await refused(verifier, signer.mint(headers={"kid": "forged-3"}), "unknown kid")
    assert jwks_server.hits == 3


@pytest.mark.asyncio
async def test_a_kid_naming_a_non_ed25519_jwks_entry_is_unknown(
    verifier: TokenVerifier, jwks_server: JwksServer, signer: Signer
) -> None:
    secret = b"a symmetric secret published by mistake"
    oct_key = {"kty": "oct", "kid": "hmac", "k": base64.urlsafe_b64encode(secret).rstrip(b"=").decode()}
    jwks_server.publish(signer.public_jwk, oct_key)

    await refused(verifier, signer.mint(headers={"kid": "hmac"}), "unknown kid")
    hmac_token = signer.assemble(
        {"alg": "HS256", "typ": "at+jwt", "kid": "hmac"}, signer.claims(), hs256(secret)
    )
    await refused(verifier, hmac_token, "algorithm not allowed")


@pytest.mark.asyncio
async def test_an_unreachable_jwks_is_not_reported_as_an_invalid_token(
    jwks_server: JwksServer, verifier: TokenVerifier, signer: Signer
) -> None:
    jwks_server.status = 503

    with pytest.raises(JwksFetchError):
        await verifier.verify(signer.mint())


# Refused: algorithm and signature


@pytest.mark.asyncio
async def test_an_unsigned_alg_none_token_is_refused_without_fetching_keys(
    verifier: TokenVerifier, jwks_server: JwksServer, signer: Signer
) -> None:
    for alg in ("none", "None", "NONE"):
        token = signer.assemble({"alg": alg, "typ": "at+jwt", "kid": signer.kid}, signer.claims())
        await refused(verifier, token, "algorithm not allowed")
    assert jwks_server.hits == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("form", ["raw", "pem", "jwk-x"])
async def test_hs256_signed_with_the_public_key_as_hmac_secret_is_refused(
    verifier: TokenVerifier, signer: Signer, form: str
) -> None:
    await verifier.verify(signer.mint())  # the kid is known: only the algorithm stands in the way
    forms = {"raw": signer.public_raw, "pem": signer.public_pem, "jwk-x": signer.public_jwk["x"].encode()}
    secret = forms[form]
    token = signer.assemble(
        {"alg": "HS256", "typ": "at+jwt", "kid": signer.kid}, signer.claims(), hs256(secret)
    )

    await refused(verifier, token, "algorithm not allowed")


@pytest.mark.asyncio
async def test_a_tampered_signature_is_refused(verifier: TokenVerifier, signer: Signer) -> None:
    token = signer.mint()
    signature = token.rsplit(".", 1)[1]
    middle = len(signature) // 2
    flipped = signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]

    await refused(verifier, replace_segment(token, 2, flipped), "bad signature")


@pytest.mark.asyncio
async def test_a_tampered_payload_is_refused(verifier: TokenVerifier, signer: Signer) -> None:
    claims = signer.claims()
    token = signer.mint(**claims)

    escalated = replace_segment(token, 1, b64url_json({**claims, "role": "admin"}))

    await refused(verifier, escalated, "bad signature")


@pytest.mark.asyncio
async def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(
    verifier: TokenVerifier, signer: Signer
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    impostor = Ed25519PrivateKey.generate()
    signer.private_key, genuine = impostor, signer.private_key
    token = signer.mint()
    signer.private_key = genuine

    await refused(verifier, token, "bad signature")


# Refused: header


@pytest.mark.asyncio
@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "at+jwt ", "dpop+jwt", "application/jwt", "refresh+jwt"])
async def test_a_token_that_is_not_an_access_token_is_refused(
    verifier: TokenVerifier, signer: Signer, typ: str | None
) -> None:
    await refused(verifier, signer.mint(headers={"typ": typ}), "not an access token (typ)")


@pytest.mark.asyncio
async def test_a_non_string_typ_is_refused(verifier: TokenVerifier, signer: Signer) -> None:
    token = signer.assemble({"alg": "EdDSA", "typ": ["at+jwt"], "kid": signer.kid}, signer.claims())

    await refused(verifier, token, "not an access token (typ)")


@pytest.mark.asyncio
async def test_a_token_without_kid_is_refused(
    verifier: TokenVerifier, jwks_server: JwksServer, signer: Signer
) -> None:
    await refused(verifier, signer.mint(headers={"kid": None}), "missing kid")
    await refused(verifier, signer.mint(headers={"kid": ""}), "missing kid")
    assert jwks_server.hits == 0


@pytest.mark.asyncio
async def test_a_non_string_kid_is_refused(verifier: TokenVerifier, signer: Signer) -> None:
    token = signer.assemble({"alg": "EdDSA", "typ": "at+jwt", "kid": 7}, signer.claims())

    await refused(verifier, token, "malformed token")


# Refused: claims


@pytest.mark.asyncio
async def test_a_token_for_another_audience_is_refused(verifier: TokenVerifier, signer: Signer) -> None:
    await refused(verifier, signer.mint(aud="another-service"), "audience mismatch")
    await refused(verifier, signer.mint(aud=["another-service"]), "audience mismatch")


@pytest.mark.asyncio
async def test_a_token_from_another_issuer_is_refused(verifier: TokenVerifier, signer: Signer) -> None:
    await refused(verifier, signer.mint(iss="http://evil.test"), "issuer mismatch")


@pytest.mark.asyncio
async def test_an_expired_token_is_refused(verifier: TokenVerifier, signer: Signer) -> None:
    now = int(datetime.now(UTC).timestamp())

    await refused(verifier, signer.mint(iat=now - 900, exp=now - LEEWAY - 1), "token expired")


@pytest.mark.asyncio
async def test_a_token_issued_in_the_future_is_refused(verifier: TokenVerifier, signer: Signer) -> None:
    now = int(datetime.now(UTC).timestamp())

    await refused(verifier, signer.mint(iat=now + 600, exp=now + 900), "token not yet valid")
    await refused(verifier, signer.mint(nbf=now + 600), "token not yet valid")


@pytest.mark.asyncio
@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "role", "sid", "jti", "iat", "exp"])
async def test_a_token_missing_a_required_claim_is_refused(
    verifier: TokenVerifier, signer: Signer, claim: str
) -> None:
    await refused(verifier, signer.mint(**{claim: None}), f"missing claim {claim}")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"sub": "alice"}, "malformed sub claim"),
        ({"sub": 42}, "rejected (InvalidSubjectError)"),
        ({"sid": "not-a-uuid"}, "malformed sid claim"),
        ({"sid": 42}, "malformed sid claim"),
        ({"role": "superuser"}, "unknown role"),
        ({"role": ["admin"]}, "unknown role"),
        ({"jti": ""}, "malformed jti claim"),
        ({"jti": 42}, "rejected (InvalidJTIError)"),
        ({"exp": "soon"}, "malformed token"),
        ({"exp": 10**20}, "malformed exp claim"),
        ({"iat": "earlier"}, "malformed iat claim"),
    ],
)
async def test_a_token_with_a_malformed_claim_is_refused(
    verifier: TokenVerifier, signer: Signer, claims: dict[str, Any], reason: str
) -> None:
    await refused(verifier, signer.mint(**claims), reason)


# Refused: not a token at all


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        "..",
        "e30.e30.",  # {} header: no alg
        f"{b64url_json({'alg': 'EdDSA'})}.not-base64!.sig",
        "x" * 10_000,
    ],
)
async def test_garbage_is_refused_as_malformed(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    assert caught.value.reason in {"malformed token", "algorithm not allowed"}


@pytest.mark.asyncio
async def test_a_signed_payload_that_is_not_an_object_is_refused(
    verifier: TokenVerifier, signer: Signer
) -> None:
    header = b64url_json({"alg": "EdDSA", "typ": "at+jwt", "kid": signer.kid})
    payload = base64.urlsafe_b64encode(b"[1, 2]").rstrip(b"=").decode()
    signature = signer.private_key.sign(f"{header}.{payload}".encode())
    token = f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    await refused(verifier, token, "malformed token")
