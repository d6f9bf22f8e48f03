"""identity's real Litestar app on in-memory fakes, through the composition root's replacements.

The database and NATS URLs name a closed port: any connection the app tried would fail, so
every answer below comes from the fakes of ``fakes.py`` (accounts, sessions, the session check,
the reads, mail), while routing, validation, token signing and verification are the real ones.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from litestar.testing import AsyncTestClient
from services.identity.tests.unit.fakes import (
    FakeHasher,
    FakeMailer,
    FakeQueries,
    FakeSessionGate,
    RunNow,
    fake_uow,
)

from aiorch_devkit.testing.fakes import FakeUnitOfWork, FixedClock
from identity.bootstrap import ROOT, Replacements, create_app
from identity.domain.events import UserRegistered
from identity.domain.sessions import SessionRevoked

NOWHERE = "127.0.0.1:9"  # discard port: nothing listens there
PASSWORD = "correct horse battery staple"


def settings() -> Any:
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return ROOT.load_settings(
        {
            "IDENTITY_DATABASE_URL": f"postgresql+asyncpg://identity@{NOWHERE}/nowhere",
            "IDENTITY_NATS_URL": f"nats://{NOWHERE}",
            "IDENTITY_SIGNING_KEY_PEM": pem.decode(),
        }
    )


@pytest.fixture
async def on_fakes() -> AsyncIterator[tuple[AsyncTestClient[Any], FakeUnitOfWork[Any]]]:
    uow = fake_uow()
    clock = FixedClock(datetime.now(UTC))  # access tokens are checked against the real time
    replacements = Replacements(
        clock=clock,
        hasher=FakeHasher(),
        mailer=FakeMailer(),
        background=RunNow(),
        unit_of_work=lambda: uow,
        queries=FakeQueries(uow),
        session_gate=FakeSessionGate(uow, clock),
    )
    async with AsyncTestClient(app=create_app(settings(), replacements)) as client:
        yield client, uow


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_register_login_me_and_refresh_run_on_fakes_alone(on_fakes):
    client, uow = on_fakes

    registered = await client.post(
        "/api/v1/auth/register", json={"email": "Ada@Example.org", "password": PASSWORD, "name": "Ada"}
    )
    assert registered.status_code == 202, registered.text
    login = await client.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD})
    assert login.status_code == 200, login.text
    me = await client.get("/api/v1/users/me", headers=bearer(login.json()))
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    me_again = await client.get("/api/v1/users/me", headers=bearer(refreshed.json()))
    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]})

    user_id = me.json()["id"]
    assert me.status_code == 200
    assert (me.json()["id"], me.json()["email"], me.json()["name"]) == (user_id, "Ada@example.org", "Ada")
    assert me_again.json()["id"] == user_id
    assert reused.status_code == 401  # a spent refresh token: the fake repositories hold the chain
    assert [str(u.id) for u in uow.users.rows.values()] == [user_id]
    # the reuse revoked the session: told to the services that verify tokens locally
    assert [type(event) for event in uow.published] == [UserRegistered, SessionRevoked]


async def test_a_token_of_a_revoked_session_is_refused_by_the_fake_session_gate(on_fakes):
    client, _ = on_fakes
    await client.post("/api/v1/auth/register", json={"email": "ada@example.org", "password": PASSWORD})
    login = (
        await client.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD})
    ).json()

    logout = await client.post("/api/v1/auth/logout", json={"refresh_token": login["refresh_token"]})
    me = await client.get("/api/v1/users/me", headers=bearer(login))

    assert logout.status_code == 204
    assert me.status_code == 401
