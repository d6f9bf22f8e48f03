"""Schemathesis against orchestrator's own OpenAPI document, authenticated as an admin and as a
user: every phase (examples, coverage, fuzzing, stateful) and every check — no server error,
every answer as documented, and the document's limits the ones the code enforces (a
schema-valid request refused or a schema-violating one accepted both fail). The counts are
printed. The AI calls go to the built-in offline model (the default), so they are fuzzed too.

The server is a real uvicorn on loopback (schemathesis speaks HTTP), on the test database.
"""

import asyncio
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from aiorch_devkit.devservers import free_port

# What no schema can state (opaque cursors, ids of other resources), per operation
CONFIG = Path(__file__).with_name("schemathesis.toml")


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


@pytest.mark.parametrize("role", ["admin", "user"])
async def test_no_server_error_and_every_answer_as_documented(served, caller, role, capsys):
    who = caller(role)
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{served}/schema/openapi.json",
        "--header",
        f"Authorization: {who.headers['authorization']}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        "15",
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
    assert run.returncode == 0, run.stdout[:200000] + run.stderr[-2000:]
