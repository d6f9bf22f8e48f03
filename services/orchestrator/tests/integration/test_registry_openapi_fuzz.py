"""Schemathesis against the AI-model registry's and the settings' operations of orchestrator's OpenAPI
document, as an admin and as a user: every phase and every check, no server error, every answer as
documented, the document's limits the ones the code enforces. The counts are printed.

The server is a real uvicorn on loopback (schemathesis speaks HTTP), on the test database.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiorch_devkit.testing.fuzzing import failures, run_schemathesis, served, summary

# What no schema can state (opaque cursors, rules across fields and rows), per operation
CONFIG = Path(__file__).with_name("schemathesis_registry.toml")
PATHS = r"^/api/v1/(ai-models|settings)"


@pytest.fixture
async def base(service_root, api_settings, service_engine, nats_client) -> AsyncIterator[str]:
    async with served(service_root.create_app(api_settings)) as url:
        yield url


@pytest.mark.parametrize("role", ["admin", "user"])
async def test_no_server_error_and_every_answer_as_documented(base, caller, role, capsys):
    run = await run_schemathesis(
        base,
        config=CONFIG,
        authorization=caller(role).headers["authorization"],
        max_examples=25,
        extra=["--include-path-regex", PATHS],
    )

    with capsys.disabled():
        print(f"\nschemathesis as {role} (AI models, settings):", *summary(run), sep="\n  ")
    assert run.returncode == 0, failures(run)
