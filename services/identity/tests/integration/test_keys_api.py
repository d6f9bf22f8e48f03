"""``/.well-known``: the key set every token verifies against, and the issuer's metadata."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from services.identity.tests.integration.conftest import bearer


async def served_keys(api) -> dict[str, jwt.PyJWK]:
    jwks = (await api.client.get("/.well-known/jwks.json")).json()
    return {key["kid"]: jwt.PyJWK(key) for key in jwks["keys"]}


def verified(token: str, keys: dict[str, jwt.PyJWK]) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.decode(
        token, keys[kid], algorithms=["EdDSA"], audience="aiorch", issuer="http://127.0.0.1:8001"
    )


async def test_the_key_set_lists_public_ed25519_keys_and_may_be_cached_briefly(api):
    response = await api.client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "max-age=300, public"
    (key,) = response.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert "d" not in key


async def test_every_token_minted_here_verifies_against_the_served_key_set_with_pyjwt(api):
    tokens = await api.signed_up()
    refreshed = (
        await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).json()
    keys = await served_keys(api)

    for access in (tokens["access_token"], refreshed["access_token"]):
        claims = verified(access, keys)
        assert claims["sub"] == tokens["user"]["id"]
        assert claims["role"] == "user"
        assert set(claims) == {"iss", "aud", "sub", "role", "sid", "jti", "iat", "exp"}
        assert claims["exp"] - claims["iat"] == 900
        assert jwt.get_unverified_header(access)["typ"] == "at+jwt"


async def test_after_a_rotation_old_tokens_keep_verifying_during_the_overlap(api):
    old = await api.signed_up()

    api.ports.keys.rotate(overlap=timedelta(hours=1), now=datetime.now(UTC))
    new = await api.login()

    keys = await served_keys(api)
    assert len(keys) == 2
    assert (
        jwt.get_unverified_header(old["access_token"])["kid"]
        != jwt.get_unverified_header(new["access_token"])["kid"]
    )
    for tokens in (old, new):
        assert (await api.client.get("/api/v1/users/me", headers=bearer(tokens))).status_code == 200
        verified(tokens["access_token"], keys)


async def test_tokens_of_a_retired_key_are_refused(api):
    old = await api.signed_up()

    api.ports.keys.rotate(overlap=timedelta(0), now=datetime.now(UTC))  # no overlap: retired at once
    new = await api.login()

    assert jwt.get_unverified_header(old["access_token"])["kid"] not in await served_keys(api)
    assert (await api.client.get("/api/v1/users/me", headers=bearer(old))).status_code == 401
    assert (await api.client.get("/api/v1/users/me", headers=bearer(new))).status_code == 200


async def test_a_token_in_use_is_refused_once_its_key_is_retired(api):
    old = await api.signed_up()
    assert (await api.client.get("/api/v1/users/me", headers=bearer(old))).status_code == 200

    api.ports.keys.rotate(overlap=timedelta(0), now=datetime.now(UTC))

    assert (await api.client.get("/api/v1/users/me", headers=bearer(old))).status_code == 401


@pytest.mark.parametrize("part", [0, 1, 2])
async def test_a_tampered_token_is_refused(api, part):
    tokens = await api.signed_up()
    pieces = tokens["access_token"].split(".")
    pieces[part] = pieces[part][:-4] + ("AAAA" if not pieces[part].endswith("AAAA") else "BBBB")

    response = await api.client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {'.'.join(pieces)}"}
    )

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_the_issuer_metadata_points_at_the_keys_and_endpoints(api):
    response = await api.client.get("/.well-known/openid-configuration")

    assert response.status_code == 200
    metadata = response.json()
    assert metadata["issuer"] == "http://127.0.0.1:8001"
    assert metadata["jwks_uri"] == "http://127.0.0.1:8001/.well-known/jwks.json"
    assert metadata["token_endpoint"] == "http://127.0.0.1:8001/api/v1/auth/login"
    assert metadata["id_token_signing_alg_values_supported"] == ["EdDSA"]
    assert "authorization_endpoint" not in metadata  # no OIDC provider configured


async def test_the_openapi_document_marks_authenticated_operations(api):
    document = (await api.client.get("/schema/openapi.json")).json()

    me = document["paths"]["/api/v1/users/me"]["get"]
    login = document["paths"]["/api/v1/auth/login"]["post"]
    assert me["security"] == [{"BearerToken": []}]
    assert "security" not in login
    assert login["operationId"] == "login"
