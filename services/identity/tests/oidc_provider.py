"""A small but real OpenID Connect provider for tests, served over HTTP on loopback.

A Litestar app run by uvicorn in a background thread on 127.0.0.1: discovery, a JWKS,
``/authorize`` (no login page: it redirects at once for the user the test configured,
recording the PKCE challenge and nonce) and ``/token`` (checks the code, the PKCE verifier,
the client's credentials and the redirect URI, and answers with a signed ID token).

Tests steer it through attributes (``user``, ``deny``, ``sign_with_wrong_key``,
``nonce_override``, ``expired``, ``audience``, ``issuer_override``, ``extra_claims``,
``unpublished_kid``), rotate its key with :meth:`OidcTestProvider.rotate_key`, and read
``requests`` (a count per path) to see what the client fetched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from litestar import Litestar, Request, Response, get, post
from litestar.response import Redirect

from aiorch_devkit.devservers import free_port
from identity.application.oidc import OidcProviderConfig

CLIENT_ID = "aiorch-test-client"
CLIENT_SECRET = "test-client-secret"
REDIRECT_URI = "http://127.0.0.1:8001/api/v1/auth/oidc/test/callback"


@dataclass
class ProviderUser:
    sub: str = "248289761001"
    email: str | None = "ada@example.com"
    email_verified: bool | str = True
    name: str | None = "Ada Lovelace"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any
    public_jwk: dict[str, Any]


def new_key(algorithm: str = "RS256", kid: str | None = None) -> SigningKey:
    private: Any
    if algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    elif algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    elif algorithm == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
        jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        raise ValueError(algorithm)
    kid = kid or secrets.token_hex(8)
    return SigningKey(kid, algorithm, private, {**jwk, "kid": kid, "alg": algorithm, "use": "sig"})


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    user: ProviderUser
    expires_at: float


@dataclass
class OidcTestProvider:
    """The provider and its knobs; use as a context manager, or :meth:`start` and :meth:`stop`."""

    algorithm: str = "RS256"
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    redirect_uris: set[str] = field(default_factory=lambda: {REDIRECT_URI})
    token_auth_methods: tuple[str, ...] = ("client_secret_post", "client_secret_basic")

    user: ProviderUser = field(default_factory=ProviderUser)
    deny: str | None = None
    """An OAuth error code (``access_denied``) to redirect back with instead of a code."""
    sign_with_wrong_key: bool = False
    """Sign with a key the JWKS does not hold, under the published ``kid``."""
    unpublished_kid: str | None = None
    """Sign with a fresh key under this ``kid``, which the JWKS does not list."""
    nonce_override: str | None = None
    expired: bool = False
    audience: str | list[str] | None = None
    """The ``aud`` to issue (default: the client id)."""
    issuer_override: str | None = None
    extra_claims: dict[str, Any] = field(default_factory=dict)

    requests: Counter[str] = field(default_factory=Counter)
    port: int = 0
    keys: list[SigningKey] = field(default_factory=list)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.keys = [new_key(self.algorithm)]

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self, name: str = "test", **overrides: Any) -> OidcProviderConfig:
        """How the client under test is configured for this provider."""
        settings = {"issuer": self.issuer, "client_id": self.client_id, "client_secret": self.client_secret}
        return OidcProviderConfig(name=name, **(settings | overrides))

    def rotate_key(self) -> SigningKey:
        """Sign with a new key from now on; the old one stays published, as real providers do."""
        self.keys.insert(0, new_key(self.algorithm))
        return self.keys[0]

    def start(self) -> OidcTestProvider:
        self.port = free_port()
        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="oidc-test-provider", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test OIDC provider did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> OidcTestProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def authorize(self, http: httpx.AsyncClient, url: str) -> dict[str, str]:
        """Play the browser: open the authorization URL, and return the query the provider
        redirected to the callback with (``code`` and ``state``, or ``error``)."""
        response = await http.get(url, follow_redirects=False)
        assert response.status_code == 302, response.text
        return dict(parse_qsl(urlsplit(response.headers["location"]).query))

    # The provider's endpoints.

    def _app(self) -> Litestar:
        @get("/.well-known/openid-configuration", sync_to_thread=False)
        def discovery() -> dict[str, Any]:
            self.requests["discovery"] += 1
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [self.algorithm],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": list(self.token_auth_methods),
            }

        @get("/jwks", sync_to_thread=False)
        def jwks() -> dict[str, Any]:
            self.requests["jwks"] += 1
            return {"keys": [key.public_jwk for key in self.keys]}

        @get("/authorize", sync_to_thread=False)
        def authorize(request: Request[Any, Any, Any]) -> Response[Any]:
            self.requests["authorize"] += 1
            query = dict(request.query_params)
            if (
                query.get("client_id") != self.client_id
                or query.get("redirect_uri") not in self.redirect_uris
            ):
                # Never redirect to an unregistered URI: an error page instead.
                return Response({"error": "invalid_request"}, status_code=400)
            back: dict[str, str] = {"state": query.get("state", "")}
            if self.deny:
                back["error"] = self.deny
            elif (
                query.get("response_type") != "code"
                or "openid" not in query.get("scope", "").split()
                or query.get("code_challenge_method") != "S256"
                or not query.get("code_challenge")
            ):
                back["error"] = "invalid_request"
            else:
                code = secrets.token_urlsafe(24)
                self._grants[code] = _Grant(
                    client_id=query["client_id"],
                    redirect_uri=query["redirect_uri"],
                    code_challenge=query["code_challenge"],
                    nonce=query.get("nonce"),
                    user=replace(self.user),
                    expires_at=time.time() + 60,
                )
                back["code"] = code
            return Redirect(f"{query['redirect_uri']}?{urlencode(back)}", status_code=302)

        @post("/token", status_code=200)
        async def token(request: Request[Any, Any, Any]) -> Response[Any]:
            self.requests["token"] += 1
            form = {key: str(value) for key, value in (await request.form()).items()}
            client = self._client_credentials(request.headers.get("authorization"), form)
            if client != (self.client_id, self.client_secret):
                return Response({"error": "invalid_client"}, status_code=401)
            grant = self._grants.pop(form.get("code", ""), None)  # single use
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
            if (
                form.get("grant_type") != "authorization_code"
                or grant is None
                or grant.expires_at < time.time()
                or grant.client_id != self.client_id
                or grant.redirect_uri != form.get("redirect_uri")
                or not hmac.compare_digest(challenge.decode(), grant.code_challenge)
            ):
                return Response({"error": "invalid_grant"}, status_code=400)
            return Response(
                {
                    "access_token": secrets.token_urlsafe(24),
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "id_token": self._id_token(grant),
                },
                headers={"Cache-Control": "no-store"},
            )

        return Litestar([discovery, jwks, authorize, token], openapi_config=None)

    def _client_credentials(self, authorization: str | None, form: dict[str, str]) -> tuple[str, str] | None:
        if authorization and authorization.lower().startswith("basic "):
            if "client_secret_basic" not in self.token_auth_methods:
                return None
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            return unquote(client_id), unquote(secret)
        if "client_secret_post" in self.token_auth_methods and "client_secret" in form:
            return form.get("client_id", ""), form["client_secret"]
        return None

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        issued = now - 7200 if self.expired else now
        claims: dict[str, Any] = {
            "iss": self.issuer_override or self.issuer,
            "sub": grant.user.sub,
            "aud": self.audience if self.audience is not None else grant.client_id,
            "iat": issued,
            "exp": issued + 3600,
            "auth_time": issued,
        }
        nonce = self.nonce_override or grant.nonce
        if nonce is not None:
            claims["nonce"] = nonce
        if grant.user.email is not None:
            claims["email"] = grant.user.email
            claims["email_verified"] = grant.user.email_verified
        if grant.user.name is not None:
            claims["name"] = grant.user.name
        claims |= self.extra_claims
        key = self.keys[0]
        private, kid = key.private, key.kid
        if self.sign_with_wrong_key:
            private = new_key(self.algorithm).private
        if self.unpublished_kid is not None:
            private, kid = new_key(self.algorithm).private, self.unpublished_kid
        return jwt.encode(claims, private, algorithm=self.algorithm, headers={"kid": kid})
