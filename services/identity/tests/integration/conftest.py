"""identity on the test database: units of work as the app builds them, and the HTTP API through
``AsyncTestClient`` with its real lifespan, keys and mail in the test's own directory."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from aiorch_devkit.testing.service_fixtures import settings_for
from identity.adapters.messaging.translators import to_contract
from identity.adapters.postgres.queries import SqlAlchemyQueries
from identity.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from identity.bootstrap import ROOT
from identity.domain.emails import canonical_email
from identity.entrypoints.http.dependencies import PORTS
from identity.entrypoints.http.schemas import UserResponse
from identity.settings import Settings
from shared.messaging.outbox import OutboxWriter

PASSWORD = "correct horse battery staple"
# Cheap argon2 parameters: the suite hashes hundreds of times; the real ones are tested apart.
FAST_HASHING = {"argon2_memory_kib": "1024", "argon2_time_cost": "1"}


@pytest.fixture
def new_uow(service_engine) -> Callable[[], SqlAlchemyUnitOfWork]:
    """A fresh unit of work on emptied tables, each call."""
    outbox = OutboxWriter("/aiorch/identity")
    return lambda: SqlAlchemyUnitOfWork.from_engine(service_engine, outbox, to_contract)


@pytest.fixture
def make_settings(service_database, servers, tmp_path) -> Callable[..., Settings]:
    """identity's settings on the test database, with ``overrides`` (field → text, as in the
    environment); keys and mail live under the test's ``tmp_path``."""

    def make(**overrides: str) -> Settings:
        values = {"keys_dir": str(tmp_path / "keys"), "mail_dir": str(tmp_path / "mail"), **FAST_HASHING}
        settings: Settings = settings_for(ROOT, service_database, servers.nats_url, **(values | overrides))
        return settings

    return make


@pytest.fixture
def service_settings(make_settings) -> Settings:
    return make_settings()


@dataclass
class Api:
    """The HTTP client and the steps most tests start with."""

    client: AsyncTestClient[Any]
    engine: Any
    mail_dir: Path

    @property
    def ports(self) -> Any:
        """The ports the app's use cases were bound to (``identity.bootstrap.Ports``)."""
        return self.client.app.state[PORTS]

    async def register(self, email: str = "ada@example.org", password: str = PASSWORD, **body: Any) -> dict:
        """Sign up (202) and answer the new account as ``GET /users/me`` would show it; its
        verification mail and token are discarded (the tests about them sign up by hand)."""
        response = await self.client.post(
            "/api/v1/auth/register", json={"email": email, "password": password, **body}
        )
        assert response.status_code == 202, response.text
        ((user_id,),) = await self.sql(
            "SELECT id FROM users WHERE email_canonical = :key", key=canonical_email(email)
        )
        user = await SqlAlchemyQueries(self.engine).user(user_id)
        assert user is not None
        for path in (await self.mail_files())[-1:]:
            path.unlink()
        await self.sql("DELETE FROM one_time_tokens WHERE user_id = :id", id=user_id)
        return msgspec.json.decode(msgspec.json.encode(UserResponse.of(user)))

    async def mail_files(self) -> list[Path]:
        await asyncio.to_thread(self.client.blocking_portal.call, self.ports.background.drain)
        await asyncio.to_thread(self.client.blocking_portal.call, self.ports.mailer.drain)
        return sorted(self.mail_dir.glob("*.eml")) if self.mail_dir.exists() else []

    async def login(self, email: str = "ada@example.org", password: str = PASSWORD, **headers: str) -> dict:
        response = await self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def signed_up(self, email: str = "ada@example.org", **headers: str) -> dict:
        """Register and log in; the token response, with ``user`` added."""
        user = await self.register(email)
        return {**await self.login(email, **headers), "user": user}

    async def sql(self, statement: str, **params: Any) -> list[tuple]:
        async with self.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []

    async def mails(self) -> list[EmailMessage]:
        """Every message written so far, oldest first (after the ones being sent are)."""
        # The app runs on the test client's portal, in its own thread and event loop: the
        # mailer's tasks are that loop's, so they are awaited there.
        await asyncio.to_thread(self.client.blocking_portal.call, self.ports.background.drain)
        await asyncio.to_thread(self.client.blocking_portal.call, self.ports.mailer.drain)
        if not self.mail_dir.exists():
            return []
        return [
            message_from_bytes(path.read_bytes(), policy=default_policy)  # type: ignore[misc]
            for path in sorted(self.mail_dir.glob("*.eml"))
        ]

    async def mailed_token(self) -> str:
        """The token in the link of the newest message."""
        body = (await self.mails())[-1].get_body(preferencelist=("plain",))
        assert body is not None
        match = re.search(r"#token=([\w-]+)", body.get_content())
        assert match is not None
        return match.group(1)

    async def outbox(self) -> list[str]:
        return [event_type for (event_type,) in await self.sql("SELECT event_type FROM outbox ORDER BY id")]


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
async def api(service_engine, service_root, make_settings, nats_client, tmp_path) -> AsyncIterator[Api]:
    # service_engine first: the tables are emptied before the app starts.
    async with AsyncTestClient(app=service_root.create_app(make_settings())) as client:
        yield Api(client, service_engine, tmp_path / "mail")


@pytest.fixture
def app_with(service_engine, service_root, make_settings, nats_client):
    """Start the app with other settings: ``async with app_with(login_window_s="60") as client``."""

    def start(**overrides: str) -> AsyncTestClient[Any]:
        return AsyncTestClient(app=service_root.create_app(make_settings(**overrides)))

    return start
