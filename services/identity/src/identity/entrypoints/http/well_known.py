"""``/.well-known``: the public signing keys and the issuer's metadata, at the site root."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import msgspec
from litestar import Controller, get
from litestar.datastructures import CacheControlHeader

from identity.entrypoints.http.dependencies import Dep, PolicyDep

# Verifiers cache the key set for 5 minutes (shared.auth.JwksKeySet); a key rotation's
# overlap (an hour by default) outlasts that and an access token's life together.
KEYS_CACHE = CacheControlHeader(public=True, max_age=300)
API: Final = "/api/v1"


class Jwk(msgspec.Struct, frozen=True, kw_only=True):
    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


class Jwks(msgspec.Struct, frozen=True, kw_only=True):
    keys: list[Jwk]


class IssuerMetadata(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """RFC 8414 names, for the parts identity has; ``external_login_endpoints`` is ours."""

    issuer: str
    jwks_uri: str
    token_endpoint: str
    """Password login (``POST``, JSON body), answering an access and a refresh token."""
    external_login_endpoints: dict[str, str]
    """Login through each configured OIDC provider, by name."""
    refresh_endpoint: str
    revocation_endpoint: str
    registration_endpoint: str
    userinfo_endpoint: str
    grant_types_supported: list[str]
    response_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    """Algorithms of the access tokens (identity issues no ID tokens of its own)."""
    claims_supported: list[str]
    authorization_endpoint: str | None = None
    """The first configured OIDC provider's login, when there is one."""


class WellKnownController(Controller):
    path = "/.well-known"
    tags = ["keys"]

    @get("/jwks.json", operation_id="jwks", summary="The token-signing public keys", cache_control=KEYS_CACHE)
    async def jwks(self, public_keys: Dep[Callable[[], dict[str, Any]]]) -> Jwks:
        """A JWK Set (RFC 7517) of the Ed25519 public keys that verify identity's access
        tokens, by `kid`. After a key rotation the previous key stays listed until its overlap
        has passed, so tokens it signed keep verifying until they expire."""
        return msgspec.convert(public_keys(), Jwks)

    @get(
        "/openid-configuration",
        operation_id="issuer_metadata",
        summary="The issuer's metadata",
        cache_control=KEYS_CACHE,
    )
    async def metadata(self, policy: PolicyDep) -> IssuerMetadata:
        """Where identity's keys and endpoints are, and what its tokens hold, under the names of
        OpenID Connect Discovery and RFC 8414."""
        base = policy.public_url.rstrip("/")
        external = {name: f"{base}{API}/auth/oidc/{name}/authorize" for name in policy.oidc_providers}
        return IssuerMetadata(
            issuer=policy.issuer,
            jwks_uri=f"{base}/.well-known/jwks.json",
            token_endpoint=f"{base}{API}/auth/login",
            authorization_endpoint=next(iter(external.values()), None),
            external_login_endpoints=external,
            refresh_endpoint=f"{base}{API}/auth/refresh",
            revocation_endpoint=f"{base}{API}/auth/logout",
            registration_endpoint=f"{base}{API}/auth/register",
            userinfo_endpoint=f"{base}{API}/users/me",
            grant_types_supported=["password", "refresh_token"],
            response_types_supported=["token"],
            token_endpoint_auth_methods_supported=["none"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["EdDSA"],
            claims_supported=["iss", "aud", "sub", "role", "sid", "jti", "iat", "exp"],
        )
