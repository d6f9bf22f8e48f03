"""Signing keys, token minting and a real loopback JWKS server for the auth tests."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import OKPAlgorithm

ISSUER = "http://identity.test"
AUDIENCE = "aiorch"
JWKS_PATH = "/.well-known/jwks.json"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def valid_claims(**overrides: Any) -> dict[str, Any]:
    """Claims identity would issue; an override of ``None`` removes the claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(uuid.uuid4()),
        "role": "user",
        "sid": str(uuid.uuid4()),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


class Signer:
    """An Ed25519 key pair under a key id, minting access tokens like identity does."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private_key = Ed25519PrivateKey.generate()

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}

    @property
    def public_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)

    def claims(self, **overrides: Any) -> dict[str, Any]:
        return valid_claims(**overrides)

    @staticmethod
    def assemble(
        header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes] | None = None
    ) -> str:
        """A JWS put together by hand, for the tokens PyJWT refuses to produce."""
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
        signature = sign(signing_input.encode()) if sign else b""
        return f"{signing_input}.{b64url(signature)}"

    def mint(self, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        """A signed token; ``None`` in ``headers`` or ``claims`` leaves that entry out."""
        header: dict[str, Any] = {"kid": self.kid, "typ": "at+jwt", **(headers or {})}
        if header.get("kid") is None:
            header.pop("kid")
        # PyJWT drops a falsy "typ" itself.
        return jwt.encode(valid_claims(**claims), self.private_key, algorithm="EdDSA", headers=header)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 10_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class JwksServer:
    """A real HTTP server on 127.0.0.1 serving a JWKS document; counts the fetches."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b'{"keys": []}'
        self._hits = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A short poll interval keeps shutdown (once per test) fast.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{JWKS_PATH}"

    @property
    def hits(self) -> int:
        with self._lock:
            return self._hits

    def publish(self, *entries: dict[str, Any]) -> None:
        self.status = 200
        self.body = json.dumps({"keys": list(entries)}).encode()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server._hits += 1
                if self.path != JWKS_PATH:
                    self.send_error(404)
                    return
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy configured in the environment must not swallow loopback calls.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def signer() -> Signer:
    return Signer("key-2025-01")


@pytest.fixture
def successor() -> Signer:
    """The key that replaces ``signer`` at the next rotation."""
    return Signer("key-2025-02")
