"""A service's API on real PostgreSQL and NATS, behind identity's tokens: the fixtures chat's and
orchestrator's integration tests share (each imports them into its own ``conftest.py``).

``api`` is the app as the service's composition root builds it, verifying tokens against the
JWKS server on loopback (``tests/conftest.py``); ``caller()`` mints a token for a new user (or
admin) and answers the headers to send; ``api_settings`` are the settings the app runs with.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient
from tests.conftest import settings_verifying_tokens, token


@dataclass(frozen=True)
class Caller:
    user_id: UUID
    headers: dict[str, str]


@pytest.fixture(autouse=True)
def _private_working_directory(tmp_path, monkeypatch):
    """Each test in a directory of its own: key files and blobs a service creates go there."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def api_settings(service_root, service_database, servers, jwks):
    return settings_verifying_tokens(service_root, service_database, servers, jwks)


@pytest.fixture
async def api(service_root, api_settings, nats_client, service_engine):
    async with AsyncTestClient(app=service_root.create_app(api_settings)) as client:
        yield client


@pytest.fixture
def caller(jwks):
    def mint(role: str = "user") -> Caller:
        access, user_id, _ = token(jwks.keys, role=role)
        return Caller(user_id=user_id, headers={"authorization": f"Bearer {access}"})

    return mint
