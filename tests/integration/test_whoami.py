"""chat and orchestrator verify identity's access tokens locally, against its JWKS over HTTP."""

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient
from tests.conftest import token

from identity.adapters.crypto.signing_keys import FileSigningKeys

pytestmark = pytest.mark.parametrize("service_root", ["chat", "orchestrator"], indirect=True)


@pytest.fixture
async def client(service_root, verifying_settings, nats_client):
    async with AsyncTestClient(app=service_root.create_app(verifying_settings)) as client:
        yield client


async def test_whoami_answers_with_the_principal_of_a_valid_token(client, jwks):
    access, user_id, session_id = token(jwks.keys, role="admin")
    answer = await client.get("/api/v1/whoami", headers={"authorization": f"Bearer {access}"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["user_id"] == str(user_id)
    assert body["session_id"] == str(session_id)
    assert body["role"] == "admin"


async def test_no_token_is_a_401_problem_with_a_bearer_challenge(client):
    answer = await client.get("/api/v1/whoami")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_tampered_token_is_refused(client, jwks):
    access, *_ = token(jwks.keys)
    header, payload, signature = access.split(".")
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    answer = await client.get("/api/v1/whoami", headers={"authorization": f"Bearer {tampered}"})
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


async def test_expired_token_is_refused(client, jwks):
    access, *_ = token(jwks.keys, now=datetime.now(UTC) - timedelta(hours=1))
    answer = await client.get("/api/v1/whoami", headers={"authorization": f"Bearer {access}"})
    assert answer.status_code == 401


async def test_token_for_another_audience_or_issuer_is_refused(client, jwks):
    for access in (token(jwks.keys, audience="elsewhere")[0], token(jwks.keys, issuer="http://evil")[0]):
        answer = await client.get("/api/v1/whoami", headers={"authorization": f"Bearer {access}"})
        assert answer.status_code == 401


async def test_token_signed_by_a_key_identity_does_not_publish_is_refused(client, jwks, tmp_path):
    stranger = FileSigningKeys(tmp_path / "stranger")
    access, *_ = token(stranger)
    answer = await client.get("/api/v1/whoami", headers={"authorization": f"Bearer {access}"})
    assert answer.status_code == 401


async def test_after_rotation_old_tokens_verify_until_their_key_is_retired(client, jwks):
    old_token, *_ = token(jwks.keys)
    now = datetime.now(UTC)
    jwks.keys.rotate(overlap=timedelta(seconds=30), now=now)
    new_token, *_ = token(jwks.keys)
    for access in (old_token, new_token):  # the new kid is fetched once, on first sight
        answer = await client.get("/api/v1/whoami", headers={"authorization": f"Bearer {access}"})
        assert answer.status_code == 200
