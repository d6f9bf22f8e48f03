"""Schemathesis against identity's own OpenAPI document, authenticated as an admin and as a user:
every phase (examples, coverage, fuzzing, stateful) and every check, "schema-valid request
rejected" and "schema-violating request accepted" included: no server error, every answer as
documented, and the document's limits the ones the code enforces. The counts are printed.

The server is a real uvicorn on loopback (schemathesis speaks HTTP), on the test database.
"""

import asyncio
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from aiorch_devkit.devservers import free_port

ADMIN = {"email": "root@example.org", "password": "root admin passphrase"}
USER = {"email": "ada@example.org", "password": "ada's user passphrase"}
# What no schema can state (opaque cursors and one-time tokens, the common-password list), per operation
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture
async def served(service_engine, service_root, make_settings, nats_client) -> AsyncIterator[str]:
    settings = make_settings(admin_email=ADMIN["email"], admin_password=ADMIN["password"])
    port = free_port()
    config = uvicorn.Config(
        service_root.create_app(settings), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("identity did not start under uvicorn")
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.to_thread(thread.join, 10)


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
async def test_no_server_error_and_every_answer_as_documented(served, role, capsys):
    token = await token_of(served, ADMIN if role == "admin" else USER, register=role == "user")
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{served}/schema/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        "25",
        "--seed",
        "1",
        "--no-color",
    ]

    run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=900)

    with capsys.disabled():
        print(f"\nschemathesis as {role}:")
        for line in run.stdout.splitlines()[-25:]:
            if line.strip() and not line.startswith("="):
                print(f"  {line.strip()}")
    # The head holds the summary and the failures; the tail can be one reproduction URL of 100 kB.
    assert run.returncode == 0, run.stdout[:12000] + run.stderr[-2000:]
