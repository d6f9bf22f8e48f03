"""TokenVerifier remembers the tokens it verified: until their expiry, under their key, never mixed up."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from jwt import PyJWK

from shared.auth import InvalidToken, TokenVerifier
from shared.auth import verifier as verifier_module

if TYPE_CHECKING:
    from .conftest import FakeClock, Signer

ISSUER = "http://identity.test"
AUDIENCE = "aiorch"


class Keys:
    """Keys in memory, replaceable under the same kid."""

    def __init__(self, *signers: Signer) -> None:
        self.keys = {signer.kid: PyJWK(signer.public_jwk) for signer in signers}

    async def get(self, kid: str) -> PyJWK | None:
        return self.keys.get(kid)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token whose signature and claims were checked, in order."""
    checked: list[str] = []
    real_decode = jwt.decode

    def counting_decode(token: str, *args: Any, **kwargs: Any) -> Any:
        checked.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(verifier_module.jwt, "decode", counting_decode)
    return checked


@pytest.fixture
def wall_clock() -> FakeClock:
    from .conftest import FakeClock

    return FakeClock(start=time.time())


def verifier_of(keys: Keys, clock: FakeClock, **options: Any) -> TokenVerifier:
    return TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, clock=clock, **options)


async def test_a_token_verified_once_is_not_checked_again(
    signer: Signer, wall_clock: FakeClock, decodes: list[str]
) -> None:
    verifier = verifier_of(Keys(signer), wall_clock)
    token = signer.mint()

    first = await verifier.verify(token)
    second = await verifier.verify(token)

    assert second == first
    assert decodes == [token]
    assert verifier.cached == 1


async def test_a_remembered_token_is_checked_in_full_again_once_it_expires(
    signer: Signer, wall_clock: FakeClock, decodes: list[str]
) -> None:
    verifier = verifier_of(Keys(signer), wall_clock)
    claims = signer.claims()
    token = signer.mint(**claims)
    await verifier.verify(token)

    wall_clock.now = claims["exp"]  # the verifier's clock reaches the expiry; PyJWT's has not
    await verifier.verify(token)

    assert decodes == [token, token]


async def test_a_token_accepted_only_thanks_to_the_leeway_is_not_remembered(
    signer: Signer, wall_clock: FakeClock, decodes: list[str]
) -> None:
    verifier = verifier_of(Keys(signer), wall_clock)
    now = int(wall_clock.now)
    token = signer.mint(iat=now - 600, exp=now - 10)

    await verifier.verify(token)
    await verifier.verify(token)

    assert decodes == [token, token]
    assert verifier.cached == 0


async def test_another_token_with_the_same_jti_is_not_taken_for_the_remembered_one(
    signer: Signer, wall_clock: FakeClock
) -> None:
    verifier = verifier_of(Keys(signer), wall_clock)
    claims = signer.claims()
    user_token = signer.mint(**claims)
    admin_token = signer.mint(**{**claims, "role": "admin"})
    assert (await verifier.verify(user_token)).role == "user"

    assert (await verifier.verify(admin_token)).role == "admin"
    assert (await verifier.verify(user_token)).role == "user"

    header, payload, signature = user_token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}{'AAAA' if not signature.endswith('AAAA') else 'BBBB'}"
    with pytest.raises(InvalidToken, match="bad signature"):
        await verifier.verify(forged)
    forged_claims = f"{admin_token.split('.')[0]}.{admin_token.split('.')[1]}.{signature}"
    with pytest.raises(InvalidToken, match="bad signature"):
        await verifier.verify(forged_claims)


async def test_a_remembered_token_whose_key_was_replaced_is_checked_against_the_new_key(
    signer: Signer, successor: Signer, wall_clock: FakeClock
) -> None:
    keys = Keys(signer)
    verifier = verifier_of(keys, wall_clock)
    token = signer.mint()
    await verifier.verify(token)

    successor.kid = signer.kid  # another key published under the same kid
    keys.keys = {signer.kid: PyJWK(successor.public_jwk)}

    with pytest.raises(InvalidToken, match="bad signature"):
        await verifier.verify(token)
    assert verifier.cached == 0


async def test_a_remembered_token_whose_key_was_retired_is_refused(
    signer: Signer, wall_clock: FakeClock
) -> None:
    keys = Keys(signer)
    verifier = verifier_of(keys, wall_clock)
    token = signer.mint()
    await verifier.verify(token)

    keys.keys = {}

    with pytest.raises(InvalidToken, match="unknown kid"):
        await verifier.verify(token)


async def test_at_most_cache_size_tokens_are_remembered_the_least_recently_used_forgotten_first(
    signer: Signer, wall_clock: FakeClock, decodes: list[str]
) -> None:
    verifier = verifier_of(Keys(signer), wall_clock, cache_size=3)
    first, second, third, fourth = (signer.mint() for _ in range(4))
    for token in (first, second, third, first, fourth):
        await verifier.verify(token)
    assert verifier.cached == 3
    decodes.clear()

    for token in (first, third, fourth, second):
        await verifier.verify(token)

    assert decodes == [second]  # forgotten when the fourth came: the first had been used again


async def test_a_cache_size_of_zero_remembers_nothing(
    signer: Signer, wall_clock: FakeClock, decodes: list[str]
) -> None:
    verifier = verifier_of(Keys(signer), wall_clock, cache_size=0)
    token = signer.mint()

    await verifier.verify(token)
    await verifier.verify(token)

    assert decodes == [token, token]
    assert verifier.cached == 0
    with pytest.raises(ValueError, match="cache_size"):
        verifier_of(Keys(signer), wall_clock, cache_size=-1)


async def test_refused_tokens_are_not_remembered(signer: Signer, wall_clock: FakeClock) -> None:
    verifier = verifier_of(Keys(signer), wall_clock)

    for _ in range(2):
        with pytest.raises(InvalidToken, match="audience mismatch"):
            await verifier.verify(signer.mint(aud="another-service"))

    assert verifier.cached == 0
