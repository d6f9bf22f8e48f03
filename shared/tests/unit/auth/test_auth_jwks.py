"""JwksKeySet: caching, rate-limited refetch on unknown kids, rotation, failures."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from shared.auth import JwksFetchError, JwksKeySet

if TYPE_CHECKING:
    from .conftest import FakeClock, JwksServer, Signer


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


URL = "http://identity.test/.well-known/jwks.json"
TTL = 300.0
INTERVAL = 30.0


class ScriptedJwks:
    """An httpx transport handler answering with whatever the test sets; counts requests."""

    def __init__(self) -> None:
        self.requests = 0
        self.status = 200
        self.body = b'{"keys": []}'
        self.error: Exception | None = None
        self.gate: asyncio.Event | None = None

    def publish(self, *entries: Any) -> None:
        self.status = 200
        self.body = json.dumps({"keys": list(entries)}).encode()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return httpx.Response(self.status, content=self.body)


@pytest.fixture
def scripted() -> ScriptedJwks:
    return ScriptedJwks()


@pytest.fixture
def key_set_factory(scripted: ScriptedJwks, clock: FakeClock) -> Callable[..., JwksKeySet]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(scripted))

    def build(**options: Any) -> JwksKeySet:
        return JwksKeySet(URL, client, ttl=TTL, min_refetch_interval=INTERVAL, clock=clock, **options)

    return build


# Against a real HTTP server on the loopback interface


@pytest.mark.asyncio
async def test_keys_are_fetched_over_http_from_the_jwks_url(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, signer: Signer
) -> None:
    jwks_server.publish(signer.public_jwk)
    keys = JwksKeySet(jwks_server.url, http_client)

    key = await keys.get(signer.kid)

    assert key is not None
    assert isinstance(key.key, Ed25519PublicKey)
    assert key.key.public_bytes_raw() == signer.public_raw
    assert key.algorithm_name == "EdDSA"
    assert jwks_server.hits == 1


@pytest.mark.asyncio
async def test_concurrent_lookups_over_http_share_one_fetch(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, signer: Signer
) -> None:
    jwks_server.publish(signer.public_jwk)
    keys = JwksKeySet(jwks_server.url, http_client)

    found = await asyncio.gather(*(keys.get(signer.kid) for _ in range(20)))
    unknown = await asyncio.gather(*(keys.get(f"forged-{n}") for n in range(20)))

    assert all(key is not None for key in found)
    assert unknown == [None] * 20
    assert jwks_server.hits == 2  # the first fetch, then one refetch for all the unknown kids


@pytest.mark.asyncio
async def test_an_http_error_status_is_a_fetch_error(
    jwks_server: JwksServer, http_client: httpx.AsyncClient
) -> None:
    jwks_server.status = 500
    keys = JwksKeySet(jwks_server.url, http_client)

    with pytest.raises(JwksFetchError, match="HTTP 500"):
        await keys.get("any")


@pytest.mark.asyncio
async def test_an_unreachable_server_is_a_fetch_error(http_client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    keys = JwksKeySet(f"http://127.0.0.1:{port}/.well-known/jwks.json", http_client)

    with pytest.raises(JwksFetchError, match="ConnectError"):
        await keys.refresh()


# Cache logic, through a scripted transport and a fake clock


@pytest.mark.asyncio
async def test_a_known_kid_is_served_from_cache_until_the_ttl_expires(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, clock: FakeClock, signer: Signer
) -> None:
    scripted.publish(signer.public_jwk)
    keys = key_set_factory()

    await keys.get(signer.kid)
    clock.advance(TTL - 1)
    await keys.get(signer.kid)
    assert scripted.requests == 1

    clock.advance(1)
    assert await keys.get(signer.kid) is not None
    assert scripted.requests == 2


@pytest.mark.asyncio
async def test_an_unknown_kid_refetches_once_per_interval(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, clock: FakeClock, signer: Signer
) -> None:
    scripted.publish(signer.public_jwk)
    keys = key_set_factory()
    await keys.get(signer.kid)

    assert await keys.get("unknown-1") is None
    assert scripted.requests == 2
    clock.advance(INTERVAL - 1)
    assert await keys.get("unknown-2") is None
    assert scripted.requests == 2

    clock.advance(1)
    assert await keys.get("unknown-2") is None
    assert scripted.requests == 3


@pytest.mark.asyncio
async def test_a_rotated_in_key_is_found_by_refetching(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, signer: Signer, successor: Signer
) -> None:
    scripted.publish(signer.public_jwk)
    keys = key_set_factory()
    await keys.get(signer.kid)

    scripted.publish(signer.public_jwk, successor.public_jwk)
    key = await keys.get(successor.kid)

    assert key is not None
    assert keys.kids == {signer.kid, successor.kid}


@pytest.mark.asyncio
async def test_a_rotated_out_key_is_dropped_at_the_next_refresh(
    key_set_factory: Callable[..., JwksKeySet],
    scripted: ScriptedJwks,
    clock: FakeClock,
    signer: Signer,
    successor: Signer,
) -> None:
    scripted.publish(signer.public_jwk, successor.public_jwk)
    keys = key_set_factory()
    await keys.get(signer.kid)

    scripted.publish(successor.public_jwk)
    clock.advance(TTL)

    assert await keys.get(signer.kid) is None
    assert keys.kids == {successor.kid}


@pytest.mark.asyncio
async def test_concurrent_unknown_kids_share_one_in_flight_refetch(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, signer: Signer
) -> None:
    scripted.publish(signer.public_jwk)
    keys = key_set_factory()
    await keys.get(signer.kid)
    scripted.gate = asyncio.Event()

    lookups = [asyncio.create_task(keys.get(f"kid-{n}")) for n in range(10)]
    await asyncio.sleep(0)
    scripted.gate.set()
    results = await asyncio.gather(*lookups)

    assert results == [None] * 10
    assert scripted.requests == 2


@pytest.mark.asyncio
async def test_a_cancelled_fetch_leaves_the_waiting_lookups_to_fetch(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, signer: Signer
) -> None:
    scripted.publish(signer.public_jwk)
    scripted.gate = asyncio.Event()
    keys = key_set_factory()

    first = asyncio.create_task(keys.get(signer.kid))
    second = asyncio.create_task(keys.get(signer.kid))
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.sleep(0)
    scripted.gate.set()

    assert await second is not None
    assert first.cancelled()
    assert scripted.requests == 2


@pytest.mark.asyncio
async def test_only_public_ed25519_signing_keys_are_used(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, signer: Signer
) -> None:
    rsa_key = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048).public_key()))
    ec_key = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
    ed448 = json.loads(OKPAlgorithm.to_jwk(Ed448PrivateKey.generate().public_key()))
    private = json.loads(OKPAlgorithm.to_jwk(signer.private_key))
    scripted.publish(
        signer.public_jwk,
        {**rsa_key, "kid": "rsa", "alg": "RS256"},
        {**ec_key, "kid": "ec", "alg": "ES256"},
        {"kty": "oct", "kid": "hmac", "k": b64url(b"shared secret"), "alg": "HS256"},
        {**ed448, "kid": "ed448"},
        {"kty": "OKP", "crv": "X25519", "kid": "x25519", "x": b64url(bytes(32))},
        {**signer.public_jwk, "kid": "wrong-alg", "alg": "RS256"},
        {**signer.public_jwk, "kid": "encryption", "use": "enc"},
        {**signer.public_jwk, "kid": ""},
        {key: value for key, value in signer.public_jwk.items() if key != "kid"},
        {**private, "kid": "leaked-private"},
        {"kty": "OKP", "crv": "Ed25519", "kid": "garbage-x", "x": "not-a-key"},
        "not an object",
        42,
    )
    keys = key_set_factory()

    assert await keys.get(signer.kid) is not None
    assert keys.kids == {signer.kid}


@pytest.mark.asyncio
async def test_an_ed25519_key_without_alg_or_use_is_accepted(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, signer: Signer
) -> None:
    bare = {key: value for key, value in signer.public_jwk.items() if key not in ("alg", "use")}
    scripted.publish(bare)

    assert await key_set_factory().get(signer.kid) is not None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (503, b"unavailable", "HTTP 503"),
        (404, b"{}", "HTTP 404"),
        (200, b"<html>", "no JWKS document"),
        (200, b'{"keys": "none"}', "no JWKS document"),
        (200, b"{}", "no JWKS document"),
        (200, b'{"keys": []}', "no usable Ed25519 key"),
        (200, b'{"keys": [{"kty": "RSA", "kid": "r"}]}', "no usable Ed25519 key"),
    ],
)
async def test_a_bad_answer_is_a_fetch_error_when_no_key_is_held(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, status: int, body: bytes, message: str
) -> None:
    scripted.status, scripted.body = status, body

    with pytest.raises(JwksFetchError, match=message):
        await key_set_factory().get("any")


@pytest.mark.asyncio
async def test_a_transport_error_is_a_fetch_error(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks
) -> None:
    scripted.error = httpx.ReadTimeout("timed out")

    with pytest.raises(JwksFetchError, match="ReadTimeout"):
        await key_set_factory().refresh()


@pytest.mark.asyncio
async def test_a_failed_refresh_keeps_serving_the_cached_keys(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, clock: FakeClock, signer: Signer
) -> None:
    scripted.publish(signer.public_jwk)
    keys = key_set_factory()
    await keys.get(signer.kid)
    scripted.status = 502
    clock.advance(TTL)

    assert await keys.get(signer.kid) is not None  # stale, refresh failed, still served
    assert await keys.get("unknown") is None  # refused, not an error
    assert scripted.requests == 2

    with pytest.raises(JwksFetchError):
        await keys.refresh()
    assert keys.kids == {signer.kid}


@pytest.mark.asyncio
async def test_after_a_failed_refresh_the_next_attempt_waits_for_the_interval(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, clock: FakeClock, signer: Signer
) -> None:
    scripted.publish(signer.public_jwk)
    keys = key_set_factory()
    await keys.get(signer.kid)
    scripted.status = 500
    clock.advance(TTL)
    await keys.get(signer.kid)
    assert scripted.requests == 2

    scripted.publish(signer.public_jwk)
    clock.advance(INTERVAL - 1)
    await keys.get(signer.kid)
    assert scripted.requests == 2

    clock.advance(1)
    await keys.get(signer.kid)
    await keys.get(signer.kid)
    assert scripted.requests == 3


@pytest.mark.asyncio
async def test_with_no_key_held_failures_are_retried_after_the_cold_interval(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, clock: FakeClock, signer: Signer
) -> None:
    scripted.status = 503
    keys = key_set_factory(cold_retry_interval=1.0)

    with pytest.raises(JwksFetchError, match="HTTP 503"):
        await keys.get(signer.kid)
    with pytest.raises(JwksFetchError, match="HTTP 503"):
        await keys.get(signer.kid)
    assert scripted.requests == 1

    scripted.publish(signer.public_jwk)
    clock.advance(1.0)
    assert await keys.get(signer.kid) is not None
    assert scripted.requests == 2


@pytest.mark.asyncio
async def test_refresh_fetches_even_within_the_interval(
    key_set_factory: Callable[..., JwksKeySet], scripted: ScriptedJwks, signer: Signer
) -> None:
    scripted.publish(signer.public_jwk)
    keys = key_set_factory()
    await keys.get(signer.kid)

    await keys.refresh()

    assert scripted.requests == 2
