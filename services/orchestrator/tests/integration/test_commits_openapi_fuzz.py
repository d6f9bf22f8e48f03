"""Schemathesis over the commit and chat-session operations, as a user: every phase and every check
(no server error, every answer as documented, the document's limits the ones the code enforces).

The live board's stream is left out: it never ends by design (its refusals are tested in
test_board_events.py). The server is a real uvicorn on loopback, on the test database.
"""

from __future__ import annotations

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

CONFIG = Path(__file__).with_name("schemathesis_commits.toml")
"""What no schema can state (opaque cursors), per operation."""
OPERATIONS = "commit|chat_sessions"
"""Operation ids of this area (record_commit, list_commits, get_changelog, list_*_chat_sessions...)."""


@pytest.fixture
async def served(service_root, api_settings, nats_client, service_engine) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        service_root.create_app(api_settings), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("orchestrator did not start under uvicorn")
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.to_thread(thread.join, 10)


async def test_commit_and_chat_session_operations_answer_as_documented(served, caller, capsys, tmp_path):
    who = caller()
    # one real project of the caller's, so the project's operations are fuzzed past the 404
    async with httpx.AsyncClient(base_url=served, headers=who.headers) as client:
        created = await client.post("/api/v1/projects", json={"name": "Fuzzed"})
        assert created.status_code == 201, created.text
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'{CONFIG.read_text()}\n[parameters]\n"path.project_id" = "{created.json()["id"]}"\n')
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{served}/schema/openapi.json",
        "--include-operation-id-regex",
        OPERATIONS,
        "--header",
        f"Authorization: {who.headers['authorization']}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "25",
        "--seed",
        "1",
        "--no-color",
    ]

    run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=600)

    with capsys.disabled():
        print("\nschemathesis over commits and chat sessions:")
        for line in run.stdout.splitlines()[-12:]:
            if line.strip() and not line.startswith("="):
                print(f"  {line.strip()}")
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-2000:]
