"""Schemathesis against identity's own OpenAPI document, authenticated as an admin: every phase
(examples, coverage, fuzzing, stateful); no server error, and every answer as documented.

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
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)


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


async def test_no_server_error_and_every_answer_as_documented(served):
    async with httpx.AsyncClient() as client:
        token = (await client.post(f"{served}/api/v1/auth/login", json=ADMIN)).json()["access_token"]
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{served}/schema/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        "25",
        "--seed",
        "1",
        "--no-color",
    ]

    run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=600)

    # The head holds the summary and the failures; the tail can be one reproduction URL of 100 kB.
    assert run.returncode == 0, run.stdout[:8000] + run.stderr[-2000:]
