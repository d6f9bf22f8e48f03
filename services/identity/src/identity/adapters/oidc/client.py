"""The OIDC relying party over HTTP: discovery, PKCE, the token endpoint, cached provider keys.

Built on httpx and PyJWT, both already dependencies, rather than Authlib or joserfc: PyJWT
verifies RS256, ES256 and EdDSA signatures, and every other step is a check we must name
anyway to refuse a login with its own reason (Authlib's ``CodeIDToken`` would fold them into
its own exceptions and bring a second JOSE stack). What remains here is the protocol's
few rules, written out: no new dependency, nothing hidden. The ID token's own rules are in
:mod:`identity.adapters.oidc.id_token`.

Caching, per provider: the discovery document for ``metadata_ttl``; the JWKS for
``jwks_ttl``, refetched when a token names a ``kid`` we do not hold (the provider rotated),
but at most once per ``jwks_refetch_interval`` so forged key ids cannot make every login
call the provider. Times come from the injected clock.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx
import jwt
import msgspec
import structlog

from identity.adapters.oidc.id_token import (
    check_claims,
    identity_from,
    pick_key,
    signed_claims,
    signing_header,
)
from identity.application.oidc import (
    PENDING_LOGIN_TTL,
    AuthorizationRequest,
    OidcError,
    OidcFailure,
    OidcIdentity,
    OidcProviderConfig,
    OidcProviderUnavailable,
    PendingLogin,
)
from shared.kernel.clock import Clock

_log = structlog.get_logger("identity.oidc")

T = TypeVar("T")


class _Metadata(msgspec.Struct):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_endpoint_auth_methods_supported: list[str] = msgspec.field(
        default_factory=lambda: ["client_secret_basic"]  # the default OIDC Discovery names
    )


class _Jwks(msgspec.Struct):
    keys: list[dict[str, Any]]


class _TokenResponse(msgspec.Struct):
    id_token: str


class _TokenError(msgspec.Struct):
    error: str = "invalid_request"


@dataclass
class _Provider:
    config: OidcProviderConfig
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    metadata: _Metadata | None = None
    metadata_at: datetime | None = None
    keys: list[dict[str, Any]] = field(default_factory=list)
    keys_at: datetime | None = None


class HttpOidcClient:
    """:class:`~identity.application.oidc.OidcClient` for the configured providers.

    The ``httpx.AsyncClient`` is injected and owned by the caller.
    """

    def __init__(
        self,
        providers: Mapping[str, OidcProviderConfig],
        http: httpx.AsyncClient,
        clock: Clock,
        *,
        metadata_ttl: timedelta = timedelta(hours=1),
        jwks_ttl: timedelta = timedelta(hours=1),
        jwks_refetch_interval: timedelta = timedelta(seconds=30),
        leeway: timedelta = timedelta(seconds=60),
        pending_ttl: timedelta = PENDING_LOGIN_TTL,
        timeout: float = 10.0,
    ) -> None:
        self._providers = {name: _Provider(config) for name, config in providers.items()}
        self._http = http
        self._clock = clock
        self._metadata_ttl = metadata_ttl
        self._jwks_ttl = jwks_ttl
        self._jwks_refetch_interval = jwks_refetch_interval
        self._leeway = leeway
        self._pending_ttl = pending_ttl
        self._timeout = timeout

    async def authorization_request(self, provider: str, redirect_uri: str) -> AuthorizationRequest:
        entry = self._provider(provider)
        metadata = await self._metadata(entry)
        verifier = secrets.token_urlsafe(64)  # 86 characters, inside RFC 7636's 43-128
        pending = PendingLogin(
            provider=provider,
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            created_at=self._clock.now(),
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": entry.config.client_id,
                "redirect_uri": redirect_uri,
                "scope": entry.config.scopes,
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return AuthorizationRequest(
            url=f"{metadata.authorization_endpoint}{separator}{query}", pending=pending
        )

    async def complete(
        self, provider: str, *, code: str, pending: PendingLogin, redirect_uri: str
    ) -> OidcIdentity:
        entry = self._provider(provider)
        if pending.provider != provider or pending.redirect_uri != redirect_uri:
            raise OidcError(OidcFailure.STATE_MISMATCH, "the login was started elsewhere")
        if pending.expired(self._clock.now(), self._pending_ttl):
            raise OidcError(OidcFailure.LOGIN_EXPIRED, "the login took too long; start again")
        metadata = await self._metadata(entry)
        id_token = await self._exchange(entry, metadata, code, pending)
        return identity_from(await self._verify(entry, metadata, id_token, pending.nonce))

    def _provider(self, name: str) -> _Provider:
        entry = self._providers.get(name)
        if entry is None:
            raise OidcError(OidcFailure.UNKNOWN_PROVIDER, f"no OIDC provider named {name[:40]!r}")
        return entry

    async def _metadata(self, entry: _Provider) -> _Metadata:
        async with entry.lock:
            now = self._clock.now()
            if (
                entry.metadata is not None
                and entry.metadata_at
                and now - entry.metadata_at < self._metadata_ttl
            ):
                return entry.metadata
            url = f"{entry.config.issuer.rstrip('/')}/.well-known/openid-configuration"
            try:
                metadata = await self._get(url, _Metadata)
            except OidcProviderUnavailable:
                if entry.metadata is None:
                    raise
                _log.warning("oidc discovery failed; using the cached document", provider=entry.config.name)
                return entry.metadata
            if metadata.issuer != entry.config.issuer:  # OIDC Discovery 4.3: must be identical
                raise OidcProviderUnavailable(
                    f"{url} names issuer {metadata.issuer!r}, not the configured {entry.config.issuer!r}"
                )
            entry.metadata, entry.metadata_at = metadata, now
            _log.info("oidc discovery fetched", provider=entry.config.name)
            return metadata

    async def _exchange(self, entry: _Provider, metadata: _Metadata, code: str, pending: PendingLogin) -> str:
        config = entry.config
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.code_verifier,
        }
        headers = {"Accept": "application/json"}
        if "client_secret_post" in metadata.token_endpoint_auth_methods_supported:
            form |= {"client_id": config.client_id, "client_secret": config.client_secret}
        else:  # client_secret_basic: RFC 6749 2.3.1 form-encodes both parts first
            pair = f"{quote(config.client_id, safe='')}:{quote(config.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        try:
            response = await self._http.post(
                metadata.token_endpoint, data=form, headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise OidcProviderUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from exc
        if 400 <= response.status_code < 500:
            try:
                error = msgspec.json.decode(response.content, type=_TokenError).error
            except msgspec.DecodeError:
                error = f"HTTP {response.status_code}"
            raise OidcError(OidcFailure.TOKEN_ERROR, f"the provider refused the code ({error[:64]})")
        if response.status_code != 200:
            raise OidcProviderUnavailable(f"token endpoint answered HTTP {response.status_code}")
        try:
            return msgspec.json.decode(response.content, type=_TokenResponse).id_token
        except msgspec.DecodeError as exc:
            raise OidcError(OidcFailure.INVALID_ID_TOKEN, "the token response holds no ID token") from exc

    async def _verify(self, entry: _Provider, metadata: _Metadata, token: str, nonce: str) -> dict[str, Any]:
        algorithm, kid = signing_header(token)
        key = await self._key(entry, metadata.jwks_uri, kid, algorithm)
        if key is None:
            raise OidcError(OidcFailure.BAD_SIGNATURE, "signed with a key the provider does not publish")
        claims = signed_claims(token, key, algorithm)
        check_claims(
            claims,
            issuer=entry.config.issuer,
            client_id=entry.config.client_id,
            nonce=nonce,
            now=self._clock.now().timestamp(),
            leeway=self._leeway.total_seconds(),
        )
        return claims

    async def _key(
        self, entry: _Provider, jwks_uri: str, kid: str | None, algorithm: str
    ) -> jwt.PyJWK | None:
        async with entry.lock:
            now = self._clock.now()
            stale = entry.keys_at is None or now - entry.keys_at >= self._jwks_ttl
            if not stale:
                key = pick_key(entry.keys, kid, algorithm)
                if key is not None:
                    return key
                # An unknown kid: the provider may have rotated, unless we looked only just now.
                assert entry.keys_at is not None
                if now - entry.keys_at < self._jwks_refetch_interval:
                    return None
            try:
                entry.keys = (await self._get(jwks_uri, _Jwks)).keys
                _log.info(
                    "oidc jwks fetched", provider=entry.config.name, kids=[k.get("kid") for k in entry.keys]
                )
            except OidcProviderUnavailable:
                if not entry.keys:
                    raise
                _log.warning("oidc jwks fetch failed; using the cached keys", provider=entry.config.name)
            entry.keys_at = now
            return pick_key(entry.keys, kid, algorithm)

    async def _get(self, url: str, type_: type[T]) -> T:
        try:
            response = await self._http.get(
                url, headers={"Accept": "application/json"}, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise OidcProviderUnavailable(f"GET {url} failed: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise OidcProviderUnavailable(f"GET {url} answered HTTP {response.status_code}")
        try:
            return msgspec.json.decode(response.content, type=type_)
        except msgspec.DecodeError as exc:
            raise OidcProviderUnavailable(f"GET {url} returned an unusable document: {exc}") from exc


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
