"""Schemathesis against identity's own OpenAPI document, authenticated as an admin and as a user:
every phase (examples, coverage, fuzzing, stateful) and every check, "schema-valid request
rejected" and "schema-violating request accepted" included: no server error, every answer as
documented, and the document's limits the ones the code enforces. The counts are printed.

The server is a real uvicorn on loopback (schemathesis speaks HTTP), on the test database.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from aiorch_devkit.testing.fuzzing import failures, run_schemathesis, served, summary

ADMIN = {"email": "root@example.org", "password": "root admin passphrase"}
USER = {"email": "ada@example.org", "password": "ada's user passphrase"}
# What no schema can state (opaque cursors and one-time tokens, the common-password list), per operation
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture
async def base(service_engine, service_root, make_settings, nats_client) -> AsyncIterator[str]:
    settings = make_settings(admin_email=ADMIN["email"], admin_password=ADMIN["password"])
    async with served(service_root.create_app(settings)) as url:
        yield url


async def token_of(base: str, account: dict[str, str], *, register: bool) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        if register:
            registered = await client.post("/api/v1/auth/register", json=account)
            assert registered.status_code in (201, 202), registered.text  # 202: same answer for any address
        response = await client.post("/api/v1/auth/login", json=account)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


@pytest.mark.parametrize("role", ["admin", "user"])
async def test_no_server_error_and_every_answer_as_documented(base, role, capsys):
    token = await token_of(base, ADMIN if role == "admin" else USER, register=role == "user")

    run = await run_schemathesis(base, config=CONFIG, authorization=f"Bearer {token}", max_examples=25)

    with capsys.disabled():
        print(f"\nschemathesis as {role}:", *summary(run), sep="\n  ")
    assert run.returncode == 0, failures(run)
