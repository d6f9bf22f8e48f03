"""chat's and orchestrator's token guard hears identity's revocations: a token of a revoked
session is refused, a token issued before a role change gets the new role, and an API that
starts after a revocation refuses the token from its first request (it reads back first)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from litestar.testing import AsyncTestClient
from tests.conftest import token

from shared.contracts import identity
from shared.kernel.ids import new_id
from shared.messaging.envelope import headers_for, outgoing
from shared.messaging.streams import context_stream, ensure_stream

pytestmark = pytest.mark.parametrize("service_root", ["chat", "orchestrator"], indirect=True)


@pytest.fixture
def app_for(service_root, verifying_settings):
    return lambda: service_root.create_app(verifying_settings)


@pytest.fixture
async def identity_stream(nats_client):
    await ensure_stream(nats_client.jetstream(), context_stream("identity"))

    async def publish(event: identity.Event) -> None:
        message = outgoing(event, source="/aiorch/identity")
        await nats_client.jetstream().publish(message.subject, message.payload, headers=headers_for(message))

    return publish


async def whoami(client, access: str):
    return await client.get("/api/v1/whoami", headers={"authorization": f"Bearer {access}"})


async def eventually(client, access: str, check) -> None:
    for _ in range(500):
        if check(await whoami(client, access)):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the change never showed")


def session_revoked(user_id, session_id) -> identity.SessionRevoked:
    now = datetime.now(UTC)
    return identity.SessionRevoked(
        event_id=new_id(),
        occurred_at=now,
        session_id=session_id,
        user_id=user_id,
        reason="logout",
        revoked_at=now,
    )


async def test_a_revoked_session_s_token_is_refused_while_the_service_runs(app_for, identity_stream, jwks):
    access, user_id, session_id = token(jwks.keys)
    async with AsyncTestClient(app=app_for()) as client:
        assert (await whoami(client, access)).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.json()["checks"]["revocations"] == "ok"

        await identity_stream(session_revoked(user_id, session_id))

        await eventually(client, access, lambda answer: answer.status_code == 401)


async def test_a_token_issued_before_a_demotion_is_served_with_the_new_role(app_for, identity_stream, jwks):
    access, user_id, _ = token(jwks.keys, role="admin")
    async with AsyncTestClient(app=app_for()) as client:
        assert (await whoami(client, access)).json()["role"] == "admin"

        await identity_stream(
            identity.UserUpdated(
                event_id=new_id(), occurred_at=datetime.now(UTC), user_id=user_id, role="user", is_active=True
            )
        )

        await eventually(
            client, access, lambda answer: answer.status_code == 200 and answer.json()["role"] == "user"
        )


async def test_an_api_started_after_a_revocation_refuses_the_token_from_its_first_request(
    app_for,
    identity_stream,
    jwks,
):
    access, user_id, session_id = token(jwks.keys)
    await identity_stream(session_revoked(user_id, session_id))

    async with AsyncTestClient(app=app_for()) as client:
        assert (await whoami(client, access)).status_code == 401
