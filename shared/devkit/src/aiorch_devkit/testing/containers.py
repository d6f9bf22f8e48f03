"""PostgreSQL and NATS for the tests through Testcontainers, on host networking.

Both containers run with ``network_mode="host"``: they listen on ports picked free
on 127.0.0.1, and the tests connect there. That is the one mode that works both on
an ordinary engine and on the bridge-less engine ``deploy/containers/engine.sh``
starts where none runs (``dockerd --bridge=none --iptables=false``), and it keeps
every connection on 127.0.0.1. (Docker Desktop on macOS/Windows supports host
networking only with its opt-in setting.)

How the port reaches each server, the same for the official images
(``postgres:16-alpine``, ``nats:2.10``) and the local ones built by
``deploy/containers/build-images.sh`` (``aiorch/postgres:local``,
``aiorch/nats:local``):

* PostgreSQL: the ``PGPORT`` environment variable. The server takes it as its
  default port, the official entrypoint's set-up server and ``psql`` use it too,
  and so does anything run with ``docker exec`` (Testcontainers' own readiness
  probe, ``psql --host 127.0.0.1``, would otherwise reach the machine's port 5432).
  ``-c port=N`` on the command line is *not* used: the official entrypoint's
  set-up server would ignore it. The command is ``postgres -c listen_addresses=127.0.0.1``
  plus settings that trade durability for speed; both images pass it to ``postgres``.
  The superuser is ``postgres``/``postgres`` with database ``postgres``.
* NATS: the command ``-js -sd /data -p PORT -a 127.0.0.1`` (both images'
  entrypoint is nats-server). JetStream keeps its store in the container's own
  file system, under ``/data``.

A broker outage (:meth:`ContainerServers.stop_nats` / :meth:`~ContainerServers.start_nats`)
is ``docker kill`` (SIGKILL) of the NATS container and ``docker start`` of the same
container: same command, host network, same port, and the same file system, so
JetStream's streams, messages and consumers survive it.

Readiness: PostgreSQL when an asyncpg connection from this process succeeds; NATS
when its client port accepts connections (nats-server opens it after JetStream is
up). A container that exits while we wait fails the start at once, with its log.

Testcontainers is configured here, before it is imported, because of what it
would do on its own:

* ``TESTCONTAINERS_RYUK_DISABLED=true`` unless set: Ryuk is an image to pull and
  needs a bridge network; containers are removed by :meth:`ContainerServers.stop`.
* ``TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1`` and
  ``TESTCONTAINERS_CONNECTION_MODE=docker_host``: ``/.dockerenv`` makes
  Testcontainers believe it runs inside a container, and it would then look up the
  default gateway (``ip route``) and use that address as the containers' host.
  Its configuration object reads the environment once, at import, so the same
  values are also set on it directly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiorch_devkit.devservers import free_port
from aiorch_devkit.devservers.ports import port_open
from aiorch_devkit.devservers.postgres import FAST_UNSAFE

SUPERUSER = "postgres"
PASSWORD = "postgres"  # noqa: S105 - a throw-away test server on 127.0.0.1
DATABASE = "postgres"
START_TIMEOUT = 90.0

POSTGRES_SETTINGS = (
    "listen_addresses=127.0.0.1",
    "max_connections=300",
    "shared_buffers=128MB",
    *FAST_UNSAFE,
)


def docker_engine_answers(timeout: float = 2.0) -> bool:
    """True when a Docker engine answers a ping (fast; False on any error)."""
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def images_present(*images: str) -> bool:
    """True when the engine already holds every image (so nothing would be pulled)."""
    try:
        import docker

        client = docker.from_env(timeout=2)
        try:
            for image in images:
                client.images.get(image)
        finally:
            client.close()
    except Exception:  # not found, or no engine: either way, not usable without a pull
        return False
    return True


@dataclass
class ContainerServers:
    postgres_url: str
    nats_url: str
    nats_port: int
    _stop: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _nats: Any = field(default=None, repr=False)  # the Testcontainers NATS container

    def stop_nats(self) -> None:
        """SIGKILL the NATS container (kept, with its store) and wait until its port is closed."""
        wrapped = self._nats.get_wrapped_container()
        wrapped.reload()
        if wrapped.status == "running":
            wrapped.kill()  # SIGKILL
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            wrapped.reload()
            if wrapped.status not in ("running", "restarting") and not port_open(self.nats_port):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"NATS container {wrapped.name} still {wrapped.status} after docker kill")
            time.sleep(0.05)

    def start_nats(self) -> None:
        """Start the same NATS container again; returns once its port accepts connections."""
        wrapped = self._nats.get_wrapped_container()
        wrapped.reload()
        if wrapped.status != "running":
            wrapped.start()
        port = self.nats_port
        _wait_until(self._nats, lambda: port_open(port), f"NATS on 127.0.0.1:{port} (restarted)")

    def stop(self) -> None:
        """Remove both containers (idempotent)."""
        errors: list[BaseException] = []
        while self._stop:
            try:
                self._stop.pop()()
            except Exception as exc:  # keep removing the others
                errors.append(exc)
        if errors:
            raise errors[0]


def configure_testcontainers() -> None:
    """Host mode, Ryuk off unless asked for: see the module docstring."""
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    os.environ["TESTCONTAINERS_HOST_OVERRIDE"] = "127.0.0.1"
    os.environ["TESTCONTAINERS_CONNECTION_MODE"] = "docker_host"
    from testcontainers.core.config import ENABLE_FLAGS, ConnectionMode, testcontainers_config

    testcontainers_config.tc_host_override = "127.0.0.1"
    testcontainers_config.connection_mode_override = ConnectionMode.docker_host
    testcontainers_config.ryuk_disabled = (
        os.environ["TESTCONTAINERS_RYUK_DISABLED"].strip().lower() in ENABLE_FLAGS
    )


def start_container_servers(postgres_image: str, nats_image: str) -> ContainerServers:
    """Start PostgreSQL and NATS containers and wait until both are ready."""
    configure_testcontainers()
    pg_port = free_port()
    nats_port = free_port()
    while nats_port == pg_port:
        nats_port = free_port()

    servers = ContainerServers(
        postgres_url=f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{pg_port}/{DATABASE}",
        nats_url=f"nats://127.0.0.1:{nats_port}",
        nats_port=nats_port,
    )
    try:
        _ensure_images(postgres_image, nats_image)
        postgres = _postgres_container(postgres_image, pg_port)
        servers._stop.append(postgres.stop)
        postgres.start()
        nats = _nats_container(nats_image, nats_port)
        servers._stop.append(nats.stop)
        servers._nats = nats
        nats.start()
        _wait_until(nats, lambda: port_open(nats_port), f"NATS on 127.0.0.1:{nats_port}")
    except BaseException:
        servers.stop()
        raise
    return servers


def _ensure_images(*images: str) -> None:
    """Pull what the engine lacks, failing with a hint where no registry answers."""
    import docker
    from docker.errors import DockerException, ImageNotFound

    client = docker.from_env()
    try:
        for image in images:
            try:
                client.images.get(image)
            except ImageNotFound:
                try:
                    client.images.pull(image)
                except DockerException as exc:
                    raise RuntimeError(
                        f"image {image} is not on the Docker engine and could not be pulled ({exc}). "
                        "Where no registry answers, build the local images (deploy/containers/"
                        "build-images.sh) and set AIORCH_POSTGRES_IMAGE=aiorch/postgres:local "
                        "AIORCH_NATS_IMAGE=aiorch/nats:local; `make test-containers` does both."
                    ) from exc
    finally:
        client.close()


def _postgres_container(image: str, port: int) -> Any:
    from testcontainers.community.postgres import PostgresContainer

    class _Postgres(PostgresContainer):  # type: ignore[misc]
        def _connect(self) -> None:
            # Replaces the stock probe (docker exec psql, polled once a second).
            _wait_until(self, lambda: _postgres_answers(port), f"PostgreSQL on 127.0.0.1:{port}")

    container = _Postgres(image, username=SUPERUSER, password=PASSWORD, dbname=DATABASE, driver=None)
    container.ports.clear()  # host networking: nothing to publish
    command = ["postgres"]
    for setting in POSTGRES_SETTINGS:
        command += ["-c", setting]
    return (
        container.with_env("PGPORT", str(port))
        .with_command(command)
        .with_name(f"aiorch-test-postgres-{port}")
        .with_kwargs(network_mode="host")
    )


def _nats_container(image: str, port: int) -> Any:
    from testcontainers.core.container import DockerContainer

    return (
        DockerContainer(image)
        .with_command(["-js", "-sd", "/data", "-p", str(port), "-a", "127.0.0.1"])
        .with_name(f"aiorch-test-nats-{port}")
        .with_kwargs(network_mode="host")
    )


def _wait_until(container: Any, ready: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        if wrapped.status in ("exited", "dead"):
            logs = wrapped.logs(tail=40).decode(errors="replace")
            raise RuntimeError(f"{what}: container {wrapped.name} exited during start-up:\n{logs}")
        if time.monotonic() > deadline:
            logs = wrapped.logs(tail=40).decode(errors="replace")
            raise TimeoutError(f"{what}: not ready after {timeout:.0f}s:\n{logs}")
        time.sleep(0.1)


def _postgres_answers(port: int) -> bool:
    async def probe() -> None:
        import asyncpg

        conn = await asyncpg.connect(
            host="127.0.0.1",
            port=port,
            user=SUPERUSER,
            password=PASSWORD,
            database=DATABASE,
            timeout=2,
        )
        try:
            await conn.fetchval("SELECT 1")
        finally:
            await conn.close()

    if not port_open(port):
        return False
    try:
        _run_coroutine(probe)
    except Exception:
        return False
    return True


def _run_coroutine(make: Callable[[], Any]) -> Any:
    """asyncio.run, also from a thread that already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, make()).result()
