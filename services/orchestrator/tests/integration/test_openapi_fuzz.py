"""Schemathesis against orchestrator's own OpenAPI document, authenticated as an admin and as a
user: every phase (examples, coverage, fuzzing, stateful) and every check — no server error,
every answer as documented, and the document's limits the ones the code enforces (a
schema-valid request refused or a schema-violating one accepted both fail). The counts are
printed. The AI calls go to the built-in offline model (the default), so they are fuzzed too.

The server is a real uvicorn on loopback (schemathesis speaks HTTP), on the test database.
"""

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
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


async def seed(base: str, headers: dict[str, str]) -> dict[str, str]:
    """The caller's resources that no operation links to, for the operations schemathesis.toml
    points at them (a path parameter; a body's ids cannot be set so): a project, a commit on it and
    an interview waiting for its answer. As ``ORCH_FUZZ_*`` variables, which the config reads."""
    async with httpx.AsyncClient(base_url=f"{base}/api/v1", headers=headers, timeout=30) as client:
        project = await client.post("/projects", json={"name": "Fuzzed"})
        project_id = project.json()["id"]
        commit = await client.post(
            f"/projects/{project_id}/commits", json={"sha": "abcdef1", "message": "feat: the parser"}
        )
        interview = await client.post(f"/projects/{project_id}/interviews", json={"topic": "A CSV parser"})
        asked = await client.post(f"/interviews/{interview.json()['id']}/questions")
    assert (project.status_code, commit.status_code, interview.status_code) == (201, 201, 201)
    assert "event: done" in asked.text, asked.text[-300:]
    return {
        "ORCH_FUZZ_PROJECT_ID": project_id,
        "ORCH_FUZZ_COMMIT_ID": commit.json()["id"],
        "ORCH_FUZZ_INTERVIEW_ID": interview.json()["id"],
    }


@pytest.mark.parametrize("role", ["admin", "user"])
async def test_no_server_error_and_every_answer_as_documented(served, caller, role, capsys):
    who = caller(role)
    ids = await seed(served, who.headers)
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
        "25",
        "--seed",
        "1",
        "--no-color",
    ]

    run = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=900, env={**os.environ, **ids}
    )

    lines = run.stdout.splitlines()
    # the warnings (operations short of test data, mostly refused data) and the summary
    start = next((i for i, line in enumerate(lines) if "= WARNINGS =" in line), max(len(lines) - 25, 0))
    with capsys.disabled():
        print(f"\nschemathesis as {role}:")
        for line in lines[start:][-60:]:
            if line.strip() and not line.startswith("="):
                print(f"  {line.strip()}")
    assert run.returncode == 0, run.stdout[:200000] + run.stderr[-2000:]
