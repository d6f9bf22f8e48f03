"""``/api/v1/auth/oidc/{provider}``: authorize → the provider → callback, against a real local
OIDC provider over HTTP on loopback (``tests/oidc_provider.py``)."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from services.identity.tests.integration.conftest import bearer
from services.identity.tests.oidc_fixtures import oidc_provider_fixture as oidc_provider_fixture
from services.identity.tests.oidc_provider import OidcTestProvider, ProviderUser

from aiorch_devkit.devservers import free_port


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """What visits the provider's pages, as the user's browser would."""
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def client(app_with, oidc_provider):
    providers = {
        "test": {
            "issuer": oidc_provider.issuer,
            "client_id": oidc_provider.client_id,
            "client_secret": oidc_provider.client_secret,
        }
    }
    async with app_with(oidc_providers=json.dumps(providers)) as client:
        yield client


async def start(client) -> httpx.Response:
    response = await client.get("/api/v1/auth/oidc/test/authorize", follow_redirects=False)
    assert response.status_code == 302, response.text
    return response


async def login(client, provider: OidcTestProvider, browser) -> httpx.Response:
    redirect = await start(client)
    back = await provider.authorize(browser, redirect.headers["location"])
    return await client.get("/api/v1/auth/oidc/test/callback", params=back)


def reason(response) -> str:
    return response.json()["detail"].split(":")[0]


async def test_authorize_redirects_to_the_provider_with_pkce_and_sets_the_state_cookie(client, oidc_provider):
    response = await start(client)

    location = httpx.URL(response.headers["location"])
    assert str(location).startswith(f"{oidc_provider.issuer}/authorize?")
    assert location.params["code_challenge_method"] == "S256"
    assert location.params["redirect_uri"] == "http://127.0.0.1:8001/api/v1/auth/oidc/test/callback"
    cookie = response.headers["set-cookie"]
    assert f"aiorch_oidc_state={location.params['state']}" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Path=/api/v1/auth/oidc/test" in cookie


async def test_a_first_login_creates_an_account_without_a_password(client, oidc_provider, browser, api):
    response = await login(client, oidc_provider, browser)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    me = (await client.get("/api/v1/users/me", headers=bearer(response.json()))).json()
    assert (me["email"], me["name"], me["email_verified"], me["has_password"]) == (
        "ada@example.com",
        "Ada Lovelace",
        True,
        False,
    )
    assert await api.sql("SELECT provider, subject FROM oidc_links") == [("test", "248289761001")]
    assert await api.outbox() == ["aiorch.identity.user.registered.v1"]


async def test_the_next_login_finds_the_linked_account(client, oidc_provider, browser, api):
    first = await login(client, oidc_provider, browser)
    oidc_provider.user = ProviderUser(email="ada.new@example.com")  # the address changed there

    second = await login(client, oidc_provider, browser)

    assert second.status_code == 200
    me = (await client.get("/api/v1/users/me", headers=bearer(second.json()))).json()
    assert me["email"] == "ada@example.com"
    assert await api.sql("SELECT count(*) FROM users") == [(1,)]
    assert first.json()["refresh_token"] != second.json()["refresh_token"]


async def test_an_existing_account_is_linked_only_when_both_sides_verified_the_address(
    client, oidc_provider, browser, api
):
    await api.register("ada@example.com")

    refused = await login(client, oidc_provider, browser)
    await api.sql("UPDATE users SET email_verified_at = now()")
    oidc_provider.user = ProviderUser(email_verified=False)
    unverified_there = await login(client, oidc_provider, browser)
    oidc_provider.user = ProviderUser()
    linked = await login(client, oidc_provider, browser)

    assert refused.status_code == unverified_there.status_code == 409
    assert linked.status_code == 200
    assert await api.sql("SELECT count(*) FROM users") == [(1,)]
    me = (await client.get("/api/v1/users/me", headers=bearer(linked.json()))).json()
    assert me["has_password"] is True
    assert ("oidc_linked",) in await api.sql("SELECT kind FROM audit_entries")


async def test_an_unverified_address_gets_an_unverified_new_account(client, oidc_provider, browser):
    oidc_provider.user = ProviderUser(sub="42", email="eve@example.org", email_verified=False)

    response = await login(client, oidc_provider, browser)

    me = (await client.get("/api/v1/users/me", headers=bearer(response.json()))).json()
    assert (me["email"], me["email_verified"]) == ("eve@example.org", False)


async def test_a_callback_whose_state_this_browser_was_not_given_is_refused(
    client, oidc_provider, browser, api
):
    redirect = await start(client)
    back = await oidc_provider.authorize(browser, redirect.headers["location"])
    client.cookies.clear()  # another browser: the victim's, lured to the attacker's callback URL

    response = await client.get("/api/v1/auth/oidc/test/callback", params=back)

    assert response.status_code == 400
    assert reason(response) == "state_mismatch"
    assert await api.sql("SELECT count(*) FROM users") == [(0,)]


async def test_a_tampered_or_replayed_state_is_refused(client, oidc_provider, browser):
    redirect = await start(client)
    back = await oidc_provider.authorize(browser, redirect.headers["location"])

    tampered = await client.get(
        "/api/v1/auth/oidc/test/callback", params={**back, "state": back["state"] + "x"}
    )
    first = await client.get("/api/v1/auth/oidc/test/callback", params=back)
    client.cookies.set("aiorch_oidc_state", back["state"], path="/api/v1/auth/oidc/test")
    replayed = await client.get("/api/v1/auth/oidc/test/callback", params=back)

    assert tampered.status_code == 400
    assert reason(tampered) == "state_mismatch"
    assert first.status_code == 200
    assert replayed.status_code == 400


@pytest.mark.parametrize(
    ("knob", "value", "expected"),
    [
        ("nonce_override", "not-the-nonce", "nonce_mismatch"),
        ("sign_with_wrong_key", True, "bad_signature"),
        ("audience", "someone-else", "wrong_audience"),
        ("expired", True, "expired_id_token"),
        ("deny", "access_denied", "provider_error"),
    ],
)
async def test_a_bad_answer_from_the_provider_is_refused(
    client, oidc_provider, browser, api, knob, value, expected
):
    setattr(oidc_provider, knob, value)

    response = await login(client, oidc_provider, browser)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert reason(response) == expected
    assert await api.sql("SELECT count(*) FROM sessions") == [(0,)]


async def test_an_unknown_provider_is_a_400_problem(client):
    response = await client.get("/api/v1/auth/oidc/nobody/authorize", follow_redirects=False)

    assert response.status_code == 400
    assert reason(response) == "unknown_provider"


async def test_a_deactivated_linked_account_cannot_log_in(client, oidc_provider, browser, api):
    await login(client, oidc_provider, browser)
    await api.sql("UPDATE users SET is_active = false")

    response = await login(client, oidc_provider, browser)

    assert response.status_code == 401


async def test_the_issuer_metadata_lists_the_provider(client):
    metadata = (await client.get("/.well-known/openid-configuration")).json()

    login_url = "http://127.0.0.1:8001/api/v1/auth/oidc/test/authorize"
    assert metadata["external_login_endpoints"] == {"test": login_url}
    assert metadata["authorization_endpoint"] == login_url


async def test_an_unreachable_provider_is_a_502(app_with):
    providers = {
        "down": {"issuer": f"http://127.0.0.1:{free_port()}", "client_id": "c", "client_secret": "s"}
    }
    async with app_with(oidc_providers=json.dumps(providers)) as client:
        response = await client.get("/api/v1/auth/oidc/down/authorize", follow_redirects=False)

    assert response.status_code == 502
    assert response.headers["content-type"].startswith("application/problem+json")
