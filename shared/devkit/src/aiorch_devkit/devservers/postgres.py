"""A PostgreSQL server from the ``pgserver`` wheel, run on a data directory we own.

We drive ``initdb``/``pg_ctl`` from the wheel ourselves instead of
``pgserver.get_server`` because that helper listens on a Unix socket only and
ties the server's life to the Python process; we need TCP on a chosen port
(clients, benchmarks and containers all speak TCP) and a server that outlives
the command that started it (``make up``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from aiorch_devkit.devservers.ports import wait_for_port

SUPERUSER = "postgres"

# Durability is irrelevant for throw-away test data and costs most of the time
# of a write-heavy suite.
FAST_UNSAFE = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


def _bin(name: str) -> Path:
    from pgserver._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / name


def _system_user() -> str | None:
    """PostgreSQL refuses to run as root; pgserver's convention is a `pgserver` user."""
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


@dataclass(slots=True)
class EmbeddedPostgres:
    data_dir: Path
    port: int
    password: str = "postgres"  # noqa: S105 - a local, loopback-only dev/test server
    durable: bool = True

    @property
    def url(self) -> str:
        """Superuser URL (libpq form; the settings layer adds the asyncpg driver)."""
        return f"postgresql://{SUPERUSER}:{quote(self.password)}@127.0.0.1:{self.port}/postgres"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def _run(self, args: list[str], *, timeout: float = 60) -> None:
        user = _system_user()
        subprocess.run(args, check=True, user=user, timeout=timeout, capture_output=True, text=True)

    def _prepare_permissions(self) -> None:
        user = _system_user()
        if user is None:
            return
        from pgserver._commands import POSTGRES_BIN_PATH
        from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

        self.data_dir.mkdir(parents=True, exist_ok=True)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(Path(POSTGRES_BIN_PATH))
        ensure_folder_permissions(Path(POSTGRES_BIN_PATH), 0o055)
        ensure_folder_permissions(Path(POSTGRES_BIN_PATH).parent / "lib", 0o044)
        shutil.chown(self.data_dir, user=user, group=user)

    def init(self) -> None:
        """Create the cluster once; a no-op when the data directory already holds one."""
        if (self.pgdata / "PG_VERSION").exists():
            return
        self._prepare_permissions()
        pwfile = self.data_dir / ".pwfile"
        pwfile.write_text(self.password)
        user = _system_user()
        if user is not None:
            shutil.chown(pwfile, user=user, group=user)
        try:
            self._run(
                [
                    str(_bin("initdb")),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                timeout=120,
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def is_running(self) -> bool:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            return False
        except PermissionError:
            return True
        return True

    def start(self) -> None:
        self.init()
        if self.is_running():
            wait_for_port(self.port, timeout=30)
            return
        options = [
            "-h 127.0.0.1",
            f"-p {self.port}",
            f"-k {self.data_dir}",
            "-c max_connections=300",
            "-c shared_buffers=128MB",
        ]
        if not self.durable:
            options += [f"-c {opt}" for opt in FAST_UNSAFE]
        self._run(
            [
                str(_bin("pg_ctl")),
                "-D",
                str(self.pgdata),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.data_dir / "postgres.log"),
                "-o",
                " ".join(options),
                "start",
            ],
            timeout=90,
        )
        wait_for_port(self.port, timeout=30)

    def stop(self, mode: str = "fast") -> None:
        if not self.is_running():
            return
        self._run([str(_bin("pg_ctl")), "-D", str(self.pgdata), "-w", "-m", mode, "stop"], timeout=60)
