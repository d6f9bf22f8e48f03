"""A token issued to live longer than the configured maximum is refused, even signed with a real
key (issue 7, point 7: a ten-year token passed)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
import pytest

from shared.auth import InvalidToken, JwksKeySet, TokenVerifier

if TYPE_CHECKING:
    from .conftest import FakeClock, JwksServer, Signer

ISSUER = "http://identity.test"
AUDIENCE = "aiorch"
LEEWAY = 30


@pytest.fixture
def keys(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: FakeClock, signer: Signer
) -> JwksKeySet:
    jwks_server.publish(signer.public_jwk)
    return JwksKeySet(jwks_server.url, http_client, clock=clock)


@pytest.mark.asyncio
async def test_a_ten_year_token_signed_with_a_published_key_is_refused(
    keys: JwksKeySet, signer: Signer
) -> None:
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway=LEEWAY)
    now = int(time.time())

    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(signer.mint(iat=now, exp=now + 10 * 365 * 24 * 3600))

    assert caught.value.reason == "lifetime (exp - iat) longer than allowed"


@pytest.mark.asyncio
async def test_the_maximum_is_fifteen_minutes_by_default_within_the_leeway(
    keys: JwksKeySet, signer: Signer
) -> None:
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway=LEEWAY)
    now = int(time.time())

    accepted = await verifier.verify(signer.mint(iat=now, exp=now + 900 + LEEWAY))
    with pytest.raises(InvalidToken):
        await verifier.verify(signer.mint(iat=now, exp=now + 900 + LEEWAY + 1))

    assert accepted.expires_at.timestamp() == now + 900 + LEEWAY


@pytest.mark.asyncio
async def test_the_maximum_is_a_setting(keys: JwksKeySet, signer: Signer) -> None:
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway=0, max_lifetime=3600)
    now = int(time.time())

    assert (await verifier.verify(signer.mint(iat=now, exp=now + 3600))).user_id
    with pytest.raises(InvalidToken):
        await verifier.verify(signer.mint(iat=now, exp=now + 3601))
