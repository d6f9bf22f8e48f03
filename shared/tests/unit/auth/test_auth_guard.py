"""The Litestar integration: bearer token → Principal, 401/403/503, OpenAPI security."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from jwt import PyJWK
from litestar import Controller, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.testing import TestClient, create_async_test_client, create_test_client

from shared.auth import (
    BEARER_SCHEME,
    BEARER_SECURITY,
    PRINCIPAL_DEPENDENCY,
    VERIFIER_STATE_KEY,
    CurrentPrincipal,
    JwksFetchError,
    JwksKeySet,
    Principal,
    TokenVerifier,
    admin_guard,
    openapi_components,
    principal_dependency,
)

if TYPE_CHECKING:
    from litestar import Litestar

    from .conftest import JwksServer, Signer

ISSUER = "http://identity.test"
AUDIENCE = "aiorch"
INVALID_TOKEN = 'Bearer error="invalid_token"'


class FakeKeyLookup:
    """Keys held in memory; counts lookups. ``unavailable`` mimics an unreachable JWKS."""

    def __init__(self, *signers: Signer) -> None:
        self.keys = {signer.kid: PyJWK(signer.public_jwk) for signer in signers}
        self.lookups = 0
        self.unavailable = False

    async def get(self, kid: str) -> PyJWK | None:
        self.lookups += 1
        if self.unavailable:
            raise JwksFetchError("JWKS unreachable")
        return self.keys.get(kid)


class MeController(Controller):
    path = "/me"
    security = BEARER_SECURITY

    @get()
    async def me(self, principal: CurrentPrincipal) -> Principal:
        return principal

    @get("/admin", guards=[admin_guard])
    async def admin_only(self, principal: CurrentPrincipal) -> dict[str, str]:
        return {"admin": str(principal.user_id)}


@get("/public")
async def public() -> str:
    return "hello"


def build_app_kwargs(verifier: TokenVerifier | None) -> dict[str, Any]:
    return {
        "route_handlers": [MeController, public],
        "dependencies": {PRINCIPAL_DEPENDENCY: principal_dependency()},
        "state": State({VERIFIER_STATE_KEY: verifier} if verifier else {}),
        "openapi_config": OpenAPIConfig(title="test", version="1", components=openapi_components),
    }


@pytest.fixture
def fake_keys(signer: Signer) -> FakeKeyLookup:
    return FakeKeyLookup(signer)


@pytest.fixture
def client(fake_keys: FakeKeyLookup) -> Iterator[TestClient[Litestar]]:
    verifier = TokenVerifier(fake_keys, issuer=ISSUER, audience=AUDIENCE)
    with create_test_client(**build_app_kwargs(verifier)) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_request_without_a_token_is_401_with_a_bearer_challenge(client: TestClient[Litestar]) -> None:
    response = client.get("/me")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_another_authorization_scheme_is_401_with_a_bearer_challenge(client: TestClient[Litestar]) -> None:
    response = client.get("/me", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_empty_bearer_token_is_401_invalid_token(client: TestClient[Litestar]) -> None:
    response = client.get("/me", headers={"Authorization": "Bearer   "})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == INVALID_TOKEN


def test_a_bad_token_is_401_invalid_token_and_never_echoed(
    client: TestClient[Litestar], signer: Signer
) -> None:
    token = signer.mint(aud="another-service")

    response = client.get("/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == INVALID_TOKEN
    assert token not in response.text
    assert "audience" not in response.text  # the reason goes to the log, not to the caller


def test_an_expired_token_is_401_invalid_token(client: TestClient[Litestar], signer: Signer) -> None:
    now = int(datetime.now(UTC).timestamp())

    response = client.get("/me", headers=bearer(signer.mint(iat=now - 900, exp=now - 600)))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == INVALID_TOKEN


def test_a_valid_token_gives_the_handler_its_principal(client: TestClient[Litestar], signer: Signer) -> None:
    claims = signer.claims()

    response = client.get("/me", headers={"Authorization": f"bearer {signer.mint(**claims)}"})

    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == claims["sub"]
    assert body["session_id"] == claims["sid"]
    assert body["role"] == "user"
    assert body["token_id"] == claims["jti"]


def test_the_admin_guard_forbids_a_user(client: TestClient[Litestar], signer: Signer) -> None:
    response = client.get("/me/admin", headers=bearer(signer.mint(role="user")))

    assert response.status_code == 403


def test_the_admin_guard_lets_an_admin_through(client: TestClient[Litestar], signer: Signer) -> None:
    claims = signer.claims(role="admin")

    response = client.get("/me/admin", headers=bearer(signer.mint(**claims)))

    assert response.status_code == 200
    assert response.json() == {"admin": claims["sub"]}


def test_the_admin_guard_answers_401_not_403_without_a_token(client: TestClient[Litestar]) -> None:
    response = client.get("/me/admin")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_the_token_is_verified_once_per_request_for_guard_and_dependency(
    client: TestClient[Litestar], fake_keys: FakeKeyLookup, signer: Signer
) -> None:
    client.get("/me/admin", headers=bearer(signer.mint(role="admin")))
    client.get("/me/admin", headers=bearer(signer.mint(role="admin")))

    assert fake_keys.lookups == 2


def test_unavailable_keys_are_503_not_401(
    client: TestClient[Litestar], fake_keys: FakeKeyLookup, signer: Signer
) -> None:
    fake_keys.unavailable = True

    response = client.get("/me", headers=bearer(signer.mint()))

    assert response.status_code == 503
    assert "retry-after" in response.headers


def test_routes_without_the_principal_stay_public(client: TestClient[Litestar]) -> None:
    assert client.get("/public").status_code == 200


def test_a_missing_verifier_is_a_server_error_not_an_open_door(signer: Signer) -> None:
    with create_test_client(**build_app_kwargs(None)) as unbound:
        response = unbound.get("/me", headers=bearer(signer.mint()))

    assert response.status_code == 500


def test_the_openapi_schema_declares_the_bearer_scheme(client: TestClient[Litestar]) -> None:
    schema = client.get("/schema/openapi.json").json()

    assert schema["components"]["securitySchemes"][BEARER_SCHEME] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": openapi_components.security_schemes[BEARER_SCHEME].description,  # type: ignore[index,union-attr]
    }
    assert schema["paths"]["/me"]["get"]["security"] == [{BEARER_SCHEME: []}]
    assert "security" not in schema["paths"]["/public"]["get"]


@pytest.mark.asyncio
async def test_end_to_end_with_a_real_jwks_server(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, signer: Signer
) -> None:
    jwks_server.publish(signer.public_jwk)
    verifier = TokenVerifier(JwksKeySet(jwks_server.url, http_client), issuer=ISSUER, audience=AUDIENCE)

    async with create_async_test_client(**build_app_kwargs(verifier)) as client:
        user = await client.get("/me", headers=bearer(signer.mint()))
        admin = await client.get("/me/admin", headers=bearer(signer.mint(role="admin")))
        forbidden = await client.get("/me/admin", headers=bearer(signer.mint()))
        forged = await client.get("/me", headers=bearer(signer.mint(headers={"kid": "forged"})))

    assert (user.status_code, admin.status_code, forbidden.status_code) == (200, 200, 403)
    assert forged.status_code == 401
    assert forged.headers["www-authenticate"] == INVALID_TOKEN
    assert jwks_server.hits == 2  # the first fetch, then one refetch for the forged kid
