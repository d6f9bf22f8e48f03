"""Input no handler can use is a 4xx problem at identity's edge, never a 500, and changes nothing:
NUL characters, JSON nested a thousand deep, oversized, empty or non-JSON bodies."""

import pytest
from services.identity.tests.integration.conftest import PASSWORD, bearer

JSON = {"content-type": "application/json"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict = response.json()
    return body


async def test_a_nul_in_the_login_email_is_a_400(api):
    await api.register()

    response = await api.client.post(
        "/api/v1/auth/login", json={"email": "ada\u0000@example.org", "password": PASSWORD}
    )

    assert "NUL" in assert_problem(response, 400)["detail"]


async def test_a_nul_in_a_password_reset_address_is_a_400_and_mails_nothing(api):
    await api.register()

    response = await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.org\u0000"})

    assert_problem(response, 400)
    assert await api.mails() == []


async def test_a_nul_in_the_admin_search_is_a_400(api):
    await api.register("root@example.org")
    await api.sql("UPDATE users SET role = 'admin'")
    admin = await api.login("root@example.org")

    response = await api.client.get("/api/v1/admin/users?q=ro%00ot", headers=bearer(admin))

    assert "NUL" in assert_problem(response, 400)["detail"]


async def test_json_nested_a_thousand_deep_on_login_is_a_400(api):
    body = b'{"email": ' + b"[" * 1000 + b"]" * 1000 + b', "password": "x"}'

    response = await api.client.post("/api/v1/auth/login", content=body, headers=JSON)

    assert "deeper than 64" in assert_problem(response, 400)["detail"]


async def test_a_five_megabyte_body_is_a_413_unread(api):
    body = b'{"email": "' + b"a" * 5_000_000 + b'", "password": "x"}'

    response = await api.client.post("/api/v1/auth/register", content=body, headers=JSON)

    assert_problem(response, 413)
    assert await api.sql("SELECT count(*) FROM users") == [(0,)]


async def test_an_empty_body_says_a_json_object_is_expected(api):
    response = await api.client.post("/api/v1/auth/login", content=b"", headers=JSON)

    assert assert_problem(response, 400)["detail"] == "The request body is empty; a JSON object is expected."


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_login_not_sent_as_json_is_a_415(api, content_type):
    await api.register()
    body = b'{"email": "ada@example.org", "password": "' + PASSWORD.encode() + b'"}'
    headers = {"content-type": content_type} if content_type else {}

    response = await api.client.post("/api/v1/auth/login", content=body, headers=headers)

    assert_problem(response, 415)


async def test_a_number_is_no_boolean_for_an_admin_change(api):
    await api.register("root@example.org")
    await api.sql("UPDATE users SET role = 'admin'")
    admin = await api.login("root@example.org")
    user = await api.register("ada@example.org")

    response = await api.client.patch(
        f"/api/v1/admin/users/{user['id']}", json={"is_active": 0}, headers=bearer(admin)
    )

    body = assert_problem(response, 400)
    assert body["errors"] == [{"field": "$.is_active", "message": "Expected `bool | null`, got `int`"}]
    assert await api.sql("SELECT is_active FROM users WHERE email = 'ada@example.org'") == [(True,)]
