"""identity's tokens open the other services: sign up and log in on identity's real process,
then the access token opens ``GET /api/v1/whoami`` on chat and orchestrator, which verify it
locally against identity's key set; a tampered and an expired token do not. A client
cannot pass for another address with ``X-Forwarded-For`` unless it is a trusted proxy.

Runs the processes as ``make up`` starts them, on a private cluster (the ``cluster`` fixture).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import jwt

from identity.adapters.crypto.jwt_tokens import JwtAccessTokenIssuer
from identity.adapters.crypto.signing_keys import FileSigningKeys

from .conftest import PrivateCluster, log_in, register

PASSWORD = "correct horse battery staple"
VERIFIERS = ("chat", "orchestrator")


def keys_dir(cluster: PrivateCluster) -> Path:
    return cluster.state_dir / "identity-keys"


def whoami(cluster: PrivateCluster, service: str, token: str) -> httpx.Response:
    return httpx.get(
        cluster.url(service, "/api/v1/whoami"), headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["role"] = "admin"
    forged = jwt.utils.base64url_encode(json.dumps(claims, separators=(",", ":")).encode()).decode()
    assert forged != payload
    return f"{header}.{forged}.{signature}"


def test_a_token_from_identity_opens_chat_and_orchestrator_and_a_tampered_or_expired_one_does_not(
    cluster: PrivateCluster,
) -> None:
    # Keys (and mail) in the private state directory, not the repository's .cluster/.
    cluster.env["IDENTITY_KEYS_DIR"] = str(keys_dir(cluster))
    cluster.env["IDENTITY_MAIL_DIR"] = str(cluster.state_dir / "mail")
    cluster.env["IDENTITY_TRUSTED_PROXIES"] = "10.9.9.9, 192.0.2.0/24"
    up = cluster.make("up", timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr

    registered = register(cluster, "ada@example.org", PASSWORD, name="Ada")
    assert registered.status_code == 202, registered.text  # the same answer for any address: no id
    login = log_in(cluster, "ada@example.org", PASSWORD)
    assert login.status_code == 200, login.text
    access = login.json()["access_token"]
    me = httpx.get(
        cluster.url("identity", "/api/v1/users/me"),
        headers={"Authorization": f"Bearer {access}"},
        timeout=10,
    )
    user_id = me.json()["id"]

    for service in VERIFIERS:
        answer = whoami(cluster, service, access)
        assert answer.status_code == 200, f"{service}: {answer.text}"
        assert answer.json()["user_id"] == user_id
        assert answer.json()["role"] == "user"

    # X-Forwarded-For is believed only from a trusted proxy; this cluster trusts none on loopback
    proxied = log_in(cluster, "ada@example.org", PASSWORD, headers={"X-Forwarded-For": "203.0.113.7"})
    assert proxied.status_code == 200, proxied.text
    sessions = httpx.get(
        cluster.url("identity", "/api/v1/auth/sessions"),
        headers={"Authorization": f"Bearer {access}"},
        timeout=10,
    )
    assert [s["ip"] for s in sessions.json()] == ["127.0.0.1", "127.0.0.1"]

    forged = tampered(access)
    signed_long_ago = expired_token(cluster, UUID(user_id))
    for service in VERIFIERS:
        for token in (forged, signed_long_ago):
            answer = whoami(cluster, service, token)
            assert answer.status_code == 401, f"{service}: {answer.text}"
            assert answer.headers["content-type"].startswith("application/problem+json")


def expired_token(cluster: PrivateCluster, user_id: UUID) -> str:
    """A token signed by identity's own active key, whose lifetime ended an hour ago."""
    issuer = JwtAccessTokenIssuer(
        FileSigningKeys(keys_dir(cluster)),
        issuer=cluster.url("identity"),
        audience="aiorch",
    )
    issued = issuer.issue(
        user_id=user_id, role="user", session_id=user_id, now=datetime.now(UTC) - timedelta(hours=2)
    )
    return issued.token
