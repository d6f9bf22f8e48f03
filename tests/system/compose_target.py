"""The black-box system tests against the compose stack (deploy/compose) instead of a private cluster.

With ``AIORCH_SYSTEM_TARGET=compose`` (``make test-compose`` sets it) the ``cluster`` fixture
yields a :class:`ComposeCluster`: the same interface as :class:`PrivateCluster`, with every
process a container of the service image. Each test gets a stack of its own (its own
compose project, secrets, volumes and free ports on 127.0.0.1), brought up by
``cluster.make("up")`` through ``deploy/compose/compose.sh`` exactly as ``make compose-up``
does, and removed with its volumes afterwards.

What a test sets in ``cluster.env`` before ``up`` reaches the containers through one more
compose file, written per test: ``IDENTITY_*``, ``CHAT_*``, ``ORCHESTRATOR_*`` to that
service's containers, other ``AIORCH_*`` to all three; the admin's address and password
become the compose variable and the secret file. The directories a test reads on the host
(identity's keys, the mail, chat's blobs, all under ``state_dir``) are bind mounts.

Processes are containers: ``processes()`` gives each container's main pid on the host
(the service's Python itself, the entrypoint ``exec``s it), so a test's SIGKILL crashes
the container and the engine restarts it (``restart: unless-stopped``), as the local
supervisor restarts a process. Only the tests that drive the system over HTTP, NATS and
PostgreSQL belong here (see ``deploy/compose/test-compose.sh``), not those about the local
cluster's own runner (lifecycle, recovery, logs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aiorch_devkit.devservers.ports import free_port_blocks, port_open

from .conftest import FOREIGN_NAMES, FOREIGN_PREFIXES, REPO, SERVICES, PrivateCluster

TARGET_ENV = "AIORCH_SYSTEM_TARGET"
COMPOSE_SH = REPO / "deploy" / "compose" / "compose.sh"
SERVICE_UID = 10001  # the service image's user (deploy/containers/service.Dockerfile)
ROLES = ("api", "worker")
UP_ATTEMPTS = 3
PORTS = (*SERVICES, "postgres", "nats", "nats-monitor", "smtp", *(f"{s}-worker" for s in SERVICES))
# host directories a test reads, and where the containers see them
BIND_DIRS = {
    "identity-keys": ("IDENTITY_KEYS_DIR", "identity", "/var/lib/aiorch/identity-keys"),
    "chat-blobs": ("CHAT_BLOB_DIR", "chat", "/var/lib/aiorch/chat-blobs"),
}
# set by the fixture or mapped above, not passed through
NOT_PASSED = {
    "AIORCH_ADMIN_EMAIL",
    "AIORCH_ADMIN_PASSWORD",
    "IDENTITY_MAIL_DIR",
    *(v for v, _, _ in BIND_DIRS.values()),
}


def outside_env() -> dict[str, str]:
    """The environment without what would point a process at other servers (as the ``cluster`` fixture)."""
    return {
        k: v for k, v in os.environ.items() if k not in FOREIGN_NAMES and not k.startswith(FOREIGN_PREFIXES)
    }


def compose_target() -> bool:
    """True when the system tests run against the compose stack."""
    return os.environ.get(TARGET_ENV) == "compose"


@dataclass
class ComposeCluster(PrivateCluster):
    project: str = ""
    secrets_dir: Path = field(default_factory=Path)
    # the variables the fixture set; anything else in env was set by the test
    baseline: frozenset[str] = frozenset()
    _last_pids: dict[str, int] = field(default_factory=dict, repr=False)

    # --- what PrivateCluster offers ------------------------------------------------

    def make(self, target: str, *, timeout: float) -> subprocess.CompletedProcess[str]:
        if target == "up":
            started = time.monotonic()
            for attempt in range(1, UP_ATTEMPTS + 1):
                self._choose_ports()  # as late as can be: other tests on this machine take ports too
                self._prepare()
                done = self._compose("up", timeout=timeout)
                if done.returncode == 0 or not self._lost_a_port():
                    break
                # another process on this machine took a port between its choice and its use
                print(f"compose stack {self.project}: a port was taken (attempt {attempt}); new ports")
                self._compose("down", "-v", "--remove-orphans", timeout=timeout)
            took = time.monotonic() - started
            print(f"compose stack {self.project}: up in {took:.1f} s (exit code {done.returncode})")
            return done
        if target == "down":
            return self._compose("down", "-v", "--remove-orphans", timeout=timeout)
        if target == "status":
            return self._compose("ps", timeout=timeout)
        raise ValueError(f"no {target!r} for the compose stack")

    def processes(self) -> dict[str, Any]:
        """Each container's main process on the host, by compose service (``chat-api``, ``nats``...).

        A container that is not running (killed, and not restarted yet) keeps the pid it last
        had, as the local runner's record keeps a dead process's until it is replaced. Read
        with the docker CLI, not docker-compose's: a test times what happens meanwhile.
        """
        label = f"label=com.docker.compose.project={self.project}"
        ids = subprocess.run(
            ["docker", "ps", "-a", "-q", "--filter", label], capture_output=True, text=True, check=True
        ).stdout.split()
        if not ids:
            return {}
        inspected = json.loads(
            subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, check=True).stdout
        )
        found: dict[str, Any] = {}
        for container in inspected:
            service = container["Config"]["Labels"]["com.docker.compose.service"]
            state = container["State"]
            if state["Running"] and state["Pid"]:
                self._last_pids[service] = state["Pid"]
            found[service] = {
                "pid": self._last_pids.get(service, state["Pid"]),
                "started_at": state["StartedAt"],
                "id": container["Id"],
            }
        return found

    def role_url(self, service: str) -> str:
        from shared.db.provision import service_url

        return service_url(
            self._admin_url(without_password=True), service, self._secret(f"{service}-db-password")
        )

    def stop_nats(self) -> None:
        """SIGKILL NATS's container, kept down (no restart) until :meth:`start_nats`; its volume stays."""
        self._nats_stopped = True
        container = self.processes()["nats"]["id"]
        subprocess.run(["docker", "update", "--restart=no", container], check=True, capture_output=True)
        subprocess.run(["docker", "kill", "--signal=KILL", container], check=True, capture_output=True)
        deadline = time.monotonic() + 30
        while port_open(self.ports["nats"]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"port {self.ports['nats']} still open after NATS was killed")
            time.sleep(0.05)

    def start_nats(self) -> None:
        container = self._compose("ps", "-q", "nats", timeout=60).stdout.strip()
        subprocess.run(
            ["docker", "update", "--restart=unless-stopped", container], check=True, capture_output=True
        )
        subprocess.run(["docker", "start", container], check=True, capture_output=True)
        deadline = time.monotonic() + 60
        while not port_open(self.ports["nats"]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"NATS did not listen on {self.ports['nats']} again")
            time.sleep(0.05)
        self._nats_stopped = False

    # --- the stack --------------------------------------------------------------------

    def _choose_ports(self) -> None:
        self.ports = dict(zip(PORTS, free_port_blocks(len(PORTS)), strict=True))
        self.nats_url = f"nats://127.0.0.1:{self.ports['nats']}"

    def _lost_a_port(self) -> bool:
        logs = self._compose("logs", "--no-color", "--tail", "20", timeout=120).stdout
        return "address already in use" in logs

    def _admin_url(self, *, without_password: bool = False) -> str:
        password = "" if without_password else f":{self._secret('postgres-password')}"
        return f"postgresql://postgres{password}@127.0.0.1:{self.ports['postgres']}/aiorch"

    def _secret(self, name: str) -> str:
        return (self.secrets_dir / name).read_text().strip()

    def _compose_env(self) -> dict[str, str]:
        ports = self.ports
        env = outside_env()
        env |= {
            "AIORCH_COMPOSE_PROJECT": self.project,
            "AIORCH_COMPOSE_NETWORK": "host",
            # built once before the tests (test-compose.sh): others' edits meanwhile are not rebuilt
            "AIORCH_COMPOSE_BUILD": "missing",
            "AIORCH_COMPOSE_SECRETS": str(self.secrets_dir),
            "AIORCH_COMPOSE_FILES": str(self.state_dir / "compose.test.yaml"),
            "AIORCH_COMPOSE_PG_PORT": str(ports["postgres"]),
            "AIORCH_COMPOSE_NATS_PORT": str(ports["nats"]),
            "AIORCH_COMPOSE_NATS_MONITOR_PORT": str(ports["nats-monitor"]),
            "AIORCH_COMPOSE_SMTP_PORT": str(ports["smtp"]),
            **{f"AIORCH_COMPOSE_{s.upper()}_PORT": str(ports[s]) for s in SERVICES},
            **{f"AIORCH_COMPOSE_{s.upper()}_WORKER_PORT": str(ports[f"{s}-worker"]) for s in SERVICES},
        }
        for name in ("AIORCH_ADMIN_EMAIL", "AIORCH_ADMIN_PASSWORD"):
            if self.env.get(name):
                env[name] = self.env[name]
        return env

    def _compose(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(COMPOSE_SH), *args],
            env=self._compose_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def _prepare(self) -> None:
        """The test's settings as one more compose file; the host directories it reads."""
        added = {k: v for k, v in self.env.items() if k not in self.baseline and k not in NOT_PASSED}
        services: dict[str, Any] = {}
        for service in SERVICES:
            prefix = f"{service.upper()}_"
            environment = {k: v for k, v in added.items() if k.startswith((prefix, "AIORCH_"))}
            volumes = []
            for name, (_, owner, target) in BIND_DIRS.items():
                if owner == service:
                    volumes.append(f"{self._own_dir(name)}:{target}")
            for role in (*ROLES, "migrate"):
                entry: dict[str, Any] = {"environment": environment}
                if volumes and role != "migrate":
                    entry["volumes"] = volumes
                services[f"{service}-{role}"] = entry
        mail = Path(self.env.get("IDENTITY_MAIL_DIR") or self.state_dir / "mail")
        services["mailcatcher"] = {
            "environment": {"MAILCATCHER_DIR": "/mail"},
            "volumes": [f"{self._own_dir(mail)}:/mail"],
        }
        # JSON is YAML: no YAML writer needed
        (self.state_dir / "compose.test.yaml").write_text(json.dumps({"services": services}, indent=2))

    def _own_dir(self, name: str | Path) -> Path:
        path = self.state_dir / name if isinstance(name, str) else name
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, SERVICE_UID, SERVICE_UID)
        path.chmod(0o700)
        return path


@contextmanager
def compose_cluster(request: pytest.FixtureRequest) -> Iterator[ComposeCluster]:
    """A fresh compose stack for one test; removed after it, its state kept when the test failed."""
    from .conftest import _CALL_REPORT

    root = Path(tempfile.mkdtemp(prefix="aiorch-compose-"))
    root.chmod(0o755)  # the containers' user traverses it to the bind-mounted directories
    state = root / "cluster"
    state.mkdir()
    state.chmod(0o755)
    env = outside_env()
    cluster = ComposeCluster(
        env,
        state,
        {},
        admin_url=None,
        nats_url="",
        project=f"aiorch-test-{uuid.uuid4().hex[:8]}",
        secrets_dir=root / "secrets",
        baseline=frozenset(env),
    )
    cluster._choose_ports()
    try:
        yield cluster
    finally:
        if cluster._nats_stopped:
            cluster.start_nats()
        logs = cluster._compose("logs", "--no-color", "--tail", "60", timeout=120)
        down = cluster.make("down", timeout=300)
        report = request.node.stash.get(_CALL_REPORT, None)
        if down.returncode == 0 and report is not None and report.passed:
            shutil.rmtree(root, ignore_errors=True)
        else:
            request.node.add_report_section(
                "teardown",
                "compose",
                f"state directory kept: {root}\n{logs.stdout[-30000:]}\n{down.stdout}{down.stderr}",
            )
