"""The state directory: where the cluster keeps its data, logs, secrets and pids.

    <state>/postgres/      embedded PostgreSQL (pgdata/, postgres.log, socket)
    <state>/nats/          embedded NATS (jetstream/, nats.pid)
    <state>/logs/          cluster.log (every process, prefixed), <process>.log each
    <state>/run/           cluster.json: supervisor, phase, pids, ports (while it runs)
    <state>/secrets.json   generated passwords, mode 0600

Other tools keep their own folders beside these (the container engine's
`docker/`, `images/`); nothing here touches them.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
from cluster_config import MARKER_ENV

# What `clean` may delete: only what the local cluster itself writes.
OWN_ENTRIES = ("postgres", "nats", "logs", "run", "secrets.json")


@dataclass(frozen=True, slots=True)
class StateDir:
    root: Path

    @property
    def postgres(self) -> Path:
        return self.root / "postgres"

    @property
    def nats(self) -> Path:
        return self.root / "nats"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def combined_log(self) -> Path:
        return self.logs / "cluster.log"

    @property
    def run_file(self) -> Path:
        return self.root / "run" / "cluster.json"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    def process_log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def prepare(self) -> None:
        for folder in (self.root, self.logs, self.run_file.parent):
            folder.mkdir(parents=True, exist_ok=True)


# --- secrets ---------------------------------------------------------------------


def _write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Write via a 0600 temp file and rename, so the secrets are never world-readable."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    tmp.replace(path)


def load_secrets(state: StateDir, names: Iterable[str]) -> dict[str, str]:
    """One password per name, generated on first use and kept for the next start.

    The database keeps the roles' passwords, so they must not change between
    starts of the same data directory.
    """
    path = state.secrets_file
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [n for n in names if n not in stored]
    for name in missing:
        stored[name] = secrets.token_urlsafe(24)
    if missing or not path.exists():
        _write_private_json(path, stored)
    return stored


# --- run file (written by the supervisor only) -------------------------------------


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """A pid plus its start time: a pid alone may have been reused by now."""

    pid: int
    started: float

    @classmethod
    def of(cls, pid: int) -> ProcessRecord:
        return cls(pid, psutil.Process(pid).create_time())

    def alive(self) -> bool:
        try:
            proc = psutil.Process(self.pid)
            return bool(proc.create_time() == self.started and proc.status() != psutil.STATUS_ZOMBIE)
        except psutil.Error:
            return False


def read_run_file(state: StateDir) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(state.run_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data


def write_run_file(state: StateDir, data: dict[str, Any]) -> None:
    tmp = state.run_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(state.run_file)


def record(data: dict[str, Any], key: str) -> ProcessRecord | None:
    raw = data.get(key)
    if not isinstance(raw, dict):
        return None
    return ProcessRecord(int(raw["pid"]), float(raw["started"]))


def supervisor_record(state: StateDir) -> ProcessRecord | None:
    """The running supervisor of this state dir, if there is one."""
    data = read_run_file(state)
    found = record(data, "supervisor") if data else None
    return found if found and found.alive() else None


def pid_in(pid_file: Path) -> int | None:
    """The pid on a pid file's first line (PostgreSQL's postmaster.pid, nats-server's), if any."""
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def process_alive(pid: int) -> bool:
    """Running: neither gone nor a zombie (a dead process its parent has not reaped)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def is_marked(pid: int, state: StateDir) -> bool:
    """A live process this cluster started (it carries the marker), not a pid reused since."""
    try:
        proc = psutil.Process(pid)
        marked = proc.environ().get(MARKER_ENV) == str(state.root)
        return bool(marked and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def listener_pid(port: int) -> int | None:
    """The process really listening on the loopback TCP port, whatever any pid file says."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return int(conn.pid)
    return None


def marked_processes(state: StateDir) -> list[psutil.Process]:
    """Every live process carrying this cluster's marker, wherever its pid came from."""
    wanted = str(state.root)
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if proc.environ().get(MARKER_ENV) == wanted and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue  # gone meanwhile, or not ours to read
    return found
