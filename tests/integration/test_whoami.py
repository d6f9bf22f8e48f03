"""chat and orchestrator verify identity's access tokens locally, against its JWKS over HTTP."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from aiorch_devkit.devservers import free_port
from aiorch_devkit.testing.service_fixtures import settings_for
from identity.adapters.crypto.jwt_tokens import JwtAccessTokenIssuer
from identity.adapters.crypto.signing_keys import FileSigningKeys

ISSUER = "http://identity.test"
AUDIENCE = "aiorch"

pytestmark = pytest.mark.parametrize("service_root", ["chat", "orchestrator"], indirect=True)


class JwksServer:
    """identity's ``/.well-known/jwks.json``, served from a key store on loopback."""

    def __init__(self, keys: FileSigningKeys) -> None:
        self.keys = keys
        self.port = free_port()
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = json.dumps(outer.keys.jwks()).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"


@pytest.fixture
def jwks(tmp_path: Path) -> Iterator[JwksServer]:
    server = JwksServer(FileSigningKeys(tmp_path / "keys"))
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()


@pytest.fixture
async def client(service_root, service_database, servers, nats_client, jwks):
    settings = settings_for(
        service_root,
        service_database,
        servers.nats_url,
        jwks_url=jwks.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    async with AsyncTestClient(app=service_root.create_app(settings)) as client:
        yield client


def token(keys, *, now=None, role="user", issuer=ISSUER, audience=AUDIENCE):
    issuer_ = JwtAccessTokenIssuer(keys, issuer=issuer, audience=audience)
    user_id, session_id = uuid4(), uuid4()
    issued = issuer_.issue(user_id=user_id, role=role, session_id=session_id, now=now or datetime.now(UTC))
    return issued.token, user_id, session_id


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
