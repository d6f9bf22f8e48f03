"""No lockout denial of service: another client's wrong guesses never keep the owner out of
login, password change or deletion; guessing on one account stays bounded however many
clients take part, and a device the owner signed in from before is let through."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient, transport
from services.identity.tests.integration.conftest import PASSWORD, Api, bearer

from aiorch_devkit.testing.fakes import FixedClock
from identity.bootstrap.ports import Replacements
from identity.bootstrap.root import create_app

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
LOGIN = "/api/v1/auth/login"


@pytest.fixture(autouse=True)
def client_ip_from_header(monkeypatch):
    """Requests come from the IP in ``x-test-ip`` (the test transport has one fixed client)."""
    parse = transport.TestClientTransport.parse_request

    def parse_request(self, request) -> dict[str, Any]:
        scope = parse(self, request)
        ip = request.headers.get("x-test-ip")
        if ip:
            scope["client"] = (ip, 50000)
        return scope

    monkeypatch.setattr(transport.TestClientTransport, "parse_request", parse_request)


async def guess(api, ip: str, password: str = "wrong!pass") -> int:  # noqa: S107
    body = {"email": "ada@example.org", "password": password}
    return (await api.client.post(LOGIN, json=body, headers={"x-test-ip": ip})).status_code


async def test_thirty_wrong_guesses_refuse_that_client_but_the_owner_signs_in_from_another(api):
    await api.register()

    answers = [await guess(api, ATTACKER) for _ in range(30)]

    assert answers == [401] * 10 + [429] * 20
    assert await guess(api, ATTACKER, PASSWORD) == 429  # not even the right password, from A
    assert await guess(api, OWNER, PASSWORD) == 200
    # That login made B a known device: it gets in even from A's address (a shared NAT, say).
    assert await guess(api, ATTACKER, PASSWORD) == 200


@pytest.fixture
async def frozen_api(service_engine, make_settings, nats_client, tmp_path):
    """The API on a clock that stands still: every failure is at the same instant, so the
    slowdown's wait is exactly its delay, however long the test takes."""
    clock = FixedClock(datetime.now(UTC))
    app = create_app(make_settings(), Replacements(clock=clock))
    async with AsyncTestClient(app=app) as client:
        yield Api(client, service_engine, tmp_path / "mail")


async def test_a_known_device_signs_in_while_the_account_is_slowed_down_for_everyone_else(frozen_api):
    api = frozen_api
    await api.register()
    assert await guess(api, OWNER, PASSWORD) == 200  # sets the device cookie
    device = api.client.cookies.get("aiorch_device")
    assert device
    api.client.cookies.clear()

    # One guess from each of many addresses: every per-client limit is far away.
    answers = [await guess(api, f"192.0.2.{n}") for n in range(30)]
    unknown = await api.client.post(
        LOGIN, json={"email": "ada@example.org", "password": PASSWORD}, headers={"x-test-ip": "192.0.2.200"}
    )
    api.client.cookies.set("aiorch_device", "A" * 43, path="/api/v1/auth")  # made up: known to no one
    forged = await api.client.post(
        LOGIN, json={"email": "ada@example.org", "password": PASSWORD}, headers={"x-test-ip": "192.0.2.202"}
    )
    api.client.cookies.set("aiorch_device", device, path="/api/v1/auth")
    known = await api.client.post(
        LOGIN, json={"email": "ada@example.org", "password": PASSWORD}, headers={"x-test-ip": "192.0.2.201"}
    )

    # Past 20 failures, the account is slowed down (the first wait: a second), not shut.
    assert answers == [401] * 20 + [429] * 10
    assert (unknown.status_code, unknown.headers["retry-after"]) == (429, "1")
    assert forged.status_code == 429
    assert known.status_code == 200


async def test_the_device_cookie_is_http_only_same_site_strict_and_opaque(api):
    await api.register()

    response = await api.client.post(LOGIN, json={"email": "ada@example.org", "password": PASSWORD})

    cookie = response.headers["set-cookie"]
    assert cookie.startswith("aiorch_device=")
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert "Path=/api/v1/auth" in cookie
    assert "secure" not in cookie.lower().split("; ")  # plain HTTP here: a Secure cookie would not come back
    assert response.headers["cache-control"] == "no-store"
    token = api.client.cookies.get("aiorch_device")
    assert (
        await api.sql("SELECT count(*) FROM known_devices WHERE digest = sha256(:t)", t=token.encode())
    ) == [(1,)]


async def test_wrong_current_passwords_from_one_client_never_keep_the_owner_from_changing_or_deleting(api):
    tokens = await api.signed_up()
    api.client.cookies.clear()
    stolen = bearer(tokens) | {"x-test-ip": ATTACKER}

    changes = [
        (
            await api.client.post(
                "/api/v1/users/me/password",
                json={"current_password": "wrong!pass", "new_password": "another good passphrase"},
                headers=stolen,
            )
        ).status_code
        for _ in range(30)
    ]

    assert changes == [403] * 10 + [429] * 20
    assert await guess(api, OWNER, PASSWORD) == 200
    owner = await api.login(**{"x-test-ip": OWNER})
    changed = await api.client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "another good passphrase"},
        headers=bearer(owner) | {"x-test-ip": OWNER},
    )
    assert changed.status_code == 204
    deleted = await api.client.request(
        "DELETE",
        "/api/v1/users/me",
        json={"password": "another good passphrase"},
        headers=bearer(owner) | {"x-test-ip": OWNER},
    )
    assert deleted.status_code == 204


async def test_wrong_passwords_on_deletion_from_one_client_refuse_that_client_only(api):
    tokens = await api.signed_up()
    api.client.cookies.clear()
    stolen = bearer(tokens) | {"x-test-ip": ATTACKER}

    answers = [
        (
            await api.client.request(
                "DELETE", "/api/v1/users/me", json={"password": "wrong!pass"}, headers=stolen
            )
        ).status_code
        for _ in range(30)
    ]

    assert answers == [403] * 10 + [429] * 20
    owner = await api.login(**{"x-test-ip": OWNER})
    deleted = await api.client.request(
        "DELETE",
        "/api/v1/users/me",
        json={"password": PASSWORD},
        headers=bearer(owner) | {"x-test-ip": OWNER},
    )
    assert deleted.status_code == 204


async def test_an_account_keeps_its_recent_devices_only(api, new_uow):
    user_id = UUID((await api.register())["id"])
    start = datetime.now(UTC)
    long_ago = start - timedelta(days=1)

    uow = new_uow()
    async with uow:
        for n in range(105):  # a script keeping no cookie: a new device at every login
            at = start + timedelta(seconds=n)
            await uow.attempts.remember_device(f"device-{n}", user_id, now=at, forget_before=long_ago)
        await uow.commit()
    async with uow:
        oldest = await uow.attempts.device_known("device-0", user_id, since=long_ago)
        newest = await uow.attempts.device_known("device-104", user_id, since=long_ago)
        later = start + timedelta(seconds=200)
        await uow.attempts.remember_device("device-new", user_id, now=later, forget_before=later)
        await uow.commit()

    assert (oldest, newest) == (False, True)
    assert await api.sql("SELECT count(*) FROM known_devices") == [(1,)]  # the rest unseen since


async def test_the_device_cookie_is_secure_when_the_request_came_over_tls(
    service_engine, make_settings, nats_client
):
    app = create_app(make_settings())
    async with AsyncTestClient(app=app, base_url="https://identity.example") as client:
        await client.post("/api/v1/auth/register", json={"email": "ada@example.org", "password": PASSWORD})
        response = await client.post(LOGIN, json={"email": "ada@example.org", "password": PASSWORD})

    assert response.status_code == 200
    assert "secure" in response.headers["set-cookie"].lower().split("; ")
