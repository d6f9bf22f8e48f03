"""A private local cluster for system tests: its own state directory and free ports.

The cluster never meets one a developer has running (nor the system's PostgreSQL
and NATS), and its environment is cleared of every variable that would point it
at other servers. Which PostgreSQL and NATS it runs on follows the test servers'
provider (``servers_provider``):

* ``embedded``: the cluster's own embedded PostgreSQL and NATS, exactly what
  ``make up`` does on a fresh machine (the harness starts no servers for it).
* otherwise PostgreSQL is the harness's: ``DATABASE_URL`` = its superuser URL,
  where the cluster provisions roles and schemas. NATS is the harness's
  (``NATS_URL``) only when the harness can stop and start it
  (``Servers.nats_restartable``: the ``containers`` provider), because a test
  may take NATS away and bring it back (:meth:`PrivateCluster.stop_nats`,
  :meth:`PrivateCluster.start_nats`). With ``env`` the NATS given is not ours to
  restart, so the cluster runs its own embedded NATS.

The state directory is a fresh temporary directory outside pytest's ``tmp_path``:
run as root, the embedded PostgreSQL runs as the ``pgserver`` user, which must
traverse the path to its data, and every pytest session that starts re-secures
``/tmp/pytest-of-<user>`` to mode 0700, locking a running cluster out of its own
data (``make down`` then fails and leaves PostgreSQL running). It is deleted
after the test, kept when the test failed (the path is in the report).

On a shared server every test starts clean: before ``make up`` (and again after
``make down``) the services' schemas and roles (identity, chat, orchestrator)
are dropped and, when the NATS is the harness's, every JetStream stream deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from aiorch_devkit.devservers import EmbeddedNats
from aiorch_devkit.devservers.ports import free_port_blocks, port_open
from aiorch_devkit.testing.servers import Servers

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("identity", "chat", "orchestrator")

sys.path.insert(0, str(REPO / "deploy" / "local"))
from cluster_config import (  # noqa: E402 (deploy/local holds scripts)
    MARKER_ENV,
    MAX_REPLICAS,
    REPLICA_PORT_STEP,
    WORKER_PORT_OFFSET,
)

PORT_OFFSETS = [r * REPLICA_PORT_STEP + w for r in range(MAX_REPLICAS) for w in (0, WORKER_PORT_OFFSET)]
"""The ports the local cluster derives from a service's port (its worker's, its replicas'):
free with it, or the cluster cannot start."""
# Variables that would send the cluster to other servers, or tie it to an outer make.
FOREIGN_PREFIXES = ("IDENTITY_", "CHAT_", "ORCHESTRATOR_", "AIORCH_")
FOREIGN_NAMES = {"DATABASE_URL", "NATS_URL", "LOG_LEVEL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}


@dataclass
class PrivateCluster:
    env: dict[str, str]
    state_dir: Path
    # every port a process of the cluster's own listens on (APIs, embedded servers)
    ports: dict[str, int]
    # the external admin URL given as DATABASE_URL, None when PostgreSQL is embedded
    admin_url: str | None
    nats_url: str
    # the harness's servers when the cluster runs on its NATS, None when NATS is embedded
    external_nats: Servers | None = None
    _nats_stopped: bool = field(default=False, repr=False)

    @property
    def embedded_postgres(self) -> bool:
        return self.admin_url is None

    @property
    def embedded_nats(self) -> bool:
        return self.external_nats is None

    def make(self, target: str, *, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "-C", str(REPO), target],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def url(self, service: str, path: str = "") -> str:
        """``path`` on the service's API, as the cluster serves it on loopback."""
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def run_file(self) -> dict[str, object]:
        """``run/cluster.json``: while the cluster runs, its phase, pids and ports."""
        run: dict[str, object] = json.loads((self.state_dir / "run" / "cluster.json").read_text())
        return run

    def processes(self) -> dict[str, Any]:
        """The processes the run file records, by name (``chat-api``, ``nats`` ...): pid and start time."""
        processes = self.run_file()["processes"]
        assert isinstance(processes, dict)
        return processes

    def role_url(self, service: str) -> str:
        """The URL of the service's own role, with the password the cluster generated."""
        from shared.db.provision import service_url

        secrets = json.loads((self.state_dir / "secrets.json").read_text())
        admin = self.admin_url or f"postgresql://postgres@127.0.0.1:{self.ports['postgres']}/postgres"
        return service_url(admin, service, secrets[service])

    def stop_nats(self) -> None:
        """Kill the cluster's NATS (SIGKILL); its JetStream data stays for :meth:`start_nats`."""
        self._nats_stopped = True
        if self.external_nats is not None:
            self.external_nats.stop_nats()
            return
        pid = int(self.processes()["nats"]["pid"])
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not dead(pid):
            if time.monotonic() > deadline:
                raise TimeoutError(f"nats-server {pid} still runs after SIGKILL")
            time.sleep(0.05)
        while port_open(self.ports["nats"]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"port {self.ports['nats']} still open after nats-server died")
            time.sleep(0.05)

    def start_nats(self) -> None:
        """Bring NATS back on the same port and data; returns once it accepts connections."""
        if self.external_nats is not None:
            self.external_nats.start_nats()
        else:
            nats = EmbeddedNats(self.state_dir / "nats", self.ports["nats"])
            # marked as the cluster's, so `make down` stops this one too
            os.environ[MARKER_ENV] = str(self.state_dir)
            try:
                nats.start(log_file=self.state_dir / "logs" / "nats.log")
            finally:
                del os.environ[MARKER_ENV]
        self._nats_stopped = False


def dead(pid: int) -> bool:
    """Gone, or a zombie its parent (the supervisor) has not reaped yet."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def register(cluster: PrivateCluster, address: str, password: str, **fields: str) -> httpx.Response:
    """Sign up on identity's API (``fields``: more of the body, such as ``name``)."""
    body = {"email": address, "password": password, **fields}
    return httpx.post(cluster.url("identity", "/api/v1/auth/register"), json=body, timeout=30)


def log_in(
    cluster: PrivateCluster, address: str, password: str, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    """Sign in on identity's API; the answer holds the access and refresh tokens."""
    body = {"email": address, "password": password}
    return httpx.post(cluster.url("identity", "/api/v1/auth/login"), json=body, headers=headers, timeout=30)


def mails(mail_dir: Path) -> set[Path]:
    return set(mail_dir.glob("*.eml"))


def links(mail_dir: Path, to: str, page: str, *, since: Collection[Path] = ()) -> list[str]:
    """The links to ``page`` in the messages to ``to`` (the file mailer's ``.eml``), newest first."""
    found = []
    for path in sorted(mails(mail_dir) - set(since), key=lambda p: p.stat().st_mtime_ns, reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] != to:
            continue
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        found += re.findall(rf"https?://\S+/{page}#token=[\w-]+", body.get_content())
    return found


def mailed_link(mail_dir: Path, to: str, page: str, *, since: set[Path], within_s: float = 30) -> str:
    """The link to ``page`` in a message to ``to`` written after ``since`` was taken."""
    deadline = time.monotonic() + within_s
    while not (found := links(mail_dir, to, page, since=since)):
        assert time.monotonic() < deadline, f"no mail to {to} with a /{page} link in {mail_dir}"
        time.sleep(0.2)
    return found[0]


async def drop_service_roles(admin_url: str) -> None:
    """Drop the services' schemas and roles (what the cluster provisions), if present."""
    import asyncpg

    from shared.db.engine import asyncpg_dsn
    from shared.db.provision import quote_ident

    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        # sessions a crashed run left behind would hold locks on the schemas
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY($1::text[])",
                list(SERVICES),
            )
        for service in SERVICES:
            name = quote_ident(service)
            await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", service):
                await conn.execute(f"DROP OWNED BY {name} CASCADE")
                await conn.execute(f"DROP ROLE {name}")
    finally:
        await conn.close()


async def delete_streams(nats_url: str) -> None:
    """Delete every JetStream stream (and with them their consumers and messages)."""
    from shared.messaging.connection import connect_nats

    nc = await connect_nats(nats_url, name="system-tests", wait=10)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            await js.delete_stream(str(info.config.name))
    finally:
        await nc.close()


def reset_shared_servers(cluster: PrivateCluster) -> None:
    if cluster.admin_url is not None:
        asyncio.run(drop_service_roles(cluster.admin_url))
    if cluster.external_nats is not None:
        asyncio.run(delete_streams(cluster.nats_url))


_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember the test's outcome, for the ``cluster`` fixture's teardown."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


@pytest.fixture
def cluster(servers_provider: str, request: pytest.FixtureRequest) -> Iterator[PrivateCluster]:
    """A private cluster on the servers the provider rule in the module docstring picks."""
    from .compose_target import compose_cluster, compose_target  # it imports this module

    if compose_target():  # `make test-compose`: the compose stack instead (see compose_target)
        with compose_cluster(request) as stack:
            yield stack
        return
    root = Path(tempfile.mkdtemp(prefix="aiorch-system-"))
    env = {
        k: v for k, v in os.environ.items() if k not in FOREIGN_NAMES and not k.startswith(FOREIGN_PREFIXES)
    }
    # embedded: nothing from the harness (not even started); else its PostgreSQL, and
    # its NATS when the harness owns it (containers), so that a test may restart it
    servers: Servers | None = None if servers_provider == "embedded" else request.getfixturevalue("servers")
    shared_nats = servers if servers is not None and servers.nats_restartable else None

    own = [*SERVICES, *(["postgres"] if servers is None else []), *(["nats"] if shared_nats is None else [])]
    ports = dict(zip(own, free_port_blocks(len(own), PORT_OFFSETS), strict=True))
    env |= {
        "AIORCH_STATE_DIR": str(root / "cluster"),
        **{f"AIORCH_{s.upper()}_PORT": str(ports[s]) for s in SERVICES},
    }
    if servers is None:
        env["AIORCH_PG_PORT"] = str(ports["postgres"])
    else:
        env["DATABASE_URL"] = servers.postgres_url
    if shared_nats is None:
        env["AIORCH_NATS_PORT"] = str(ports["nats"])
        nats_url = f"nats://127.0.0.1:{ports['nats']}"
    else:
        env["NATS_URL"] = nats_url = shared_nats.nats_url
    private = PrivateCluster(
        env,
        root / "cluster",
        ports,
        admin_url=None if servers is None else servers.postgres_url,
        nats_url=nats_url,
        external_nats=shared_nats,
    )
    # installing (a no-op once done) is not part of what `make up` is timed on
    subprocess.run(["make", "-C", str(REPO), "venv"], env=env, check=True, timeout=1200)
    reset_shared_servers(private)
    try:
        yield private
    finally:
        try:
            if private._nats_stopped and private.external_nats is not None:
                private.start_nats()  # the next tests need the shared NATS back
        finally:
            down = private.make("down", timeout=180)  # whatever the test did, leave nothing running
            reset_shared_servers(private)
            report = request.node.stash.get(_CALL_REPORT, None)
            if down.returncode == 0 and report is not None and report.passed:
                shutil.rmtree(root, ignore_errors=True)
            else:
                request.node.add_report_section(
                    "teardown", "cluster", f"state directory kept: {root}\n{down.stdout}{down.stderr}"
                )
