"""Schemathesis against a service's own OpenAPI document, served by a real uvicorn on loopback.

Schemathesis speaks HTTP, so the app runs in a server thread (:func:`served`), and the run is
the ``schemathesis`` command (:func:`run_schemathesis`) with every phase and every check: no
server error, every answer as documented, and the document's limits the ones the code
enforces. What no schema can state goes in the caller's config file, with its reason.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn

from aiorch_devkit.devservers import free_port


@asynccontextmanager
async def served(app: object) -> AsyncIterator[str]:
    """``app`` on a free loopback port until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the app did not start under uvicorn")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)


async def run_schemathesis(
    base: str,
    *,
    config: Path,
    authorization: str,
    max_examples: int,
    extra: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Every phase and every check against ``base``'s document, authenticated, seeded (repeatable)."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{base}/schema/openapi.json",
        *extra,
        "--header",
        f"Authorization: {authorization}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(max_examples),
        "--seed",
        "1",
        "--no-color",
    ]
    return await asyncio.to_thread(
        subprocess.run,
        command,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, **(env or {})},
    )


def summary(run: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines worth printing: the warnings (operations short of test data...) and the counts."""
    lines = run.stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if "= WARNINGS =" in line), max(len(lines) - 25, 0))
    return [line.strip() for line in lines[start:][-60:] if line.strip() and not line.startswith("=")]


def failures(run: subprocess.CompletedProcess[str]) -> str:
    """What an assertion shows: the head holds the failures (the tail can be one 100 kB reproduction)."""
    return run.stdout[:200_000] + run.stderr[-2000:]
