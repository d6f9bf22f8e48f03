"""The supervisor: starts the whole cluster, keeps it running, stops it in order.

Start: PostgreSQL and NATS (in parallel) → each service's role and schema →
`aiorch-S migrate` (the three in parallel) → `aiorch-S api` and `aiorch-S
worker` for each → wait until every API answers `/health/ready`. Then it
restarts any process that dies (with a growing delay) until SIGINT/SIGTERM —
the embedded PostgreSQL and NATS included — and stops the services (SIGTERM,
SIGKILL after 10 s), then NATS, then PostgreSQL, so nothing outlives it. It
signals only processes it can prove are its own (pid, start time and this
cluster's marker), never a pid read from a file that may be stale.

Each service process runs in a session of its own: a Ctrl-C on the terminal
reaches only the supervisor, which then stops everything in that order, and a
whole process group (a server and any workers it forks) can be signalled at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil  # type: ignore[import-untyped]
from cluster_config import LLM_PROCESS, MARKER_ENV, SERVICES, ClusterConfig, env_prefix, port_variable
from cluster_llm import (
    LOCAL_MODEL_NAME_ENV,
    LOCAL_MODEL_URL_ENV,
    MODEL_ALIAS,
    llm_command,
    llm_lines,
    llm_ready_url,
    llm_url,
)
from cluster_logs import LineSplitter, LogSink
from cluster_state import (
    ProcessRecord,
    StateDir,
    is_marked,
    listener_pid,
    load_secrets,
    marked_processes,
    pid_in,
    process_alive,
    write_run_file,
)

from aiorch_devkit.devservers import EmbeddedNats, EmbeddedPostgres
from aiorch_devkit.devservers.ports import port_open

STOP_GRACE_S = 10.0
MAX_RESTART_DELAY_S = 30.0
STABLE_AFTER_S = 60.0  # a process up this long has its restart delay reset
SERVER_POLL_S = 0.2  # PostgreSQL and NATS are not children we can await: their pids are polled
LINE_LIMIT = 1 << 20
PIPE_CHUNK = 1 << 16
BIN_DIR = Path(sys.executable).parent
# The local cluster's first admin (README); identity creates it at start if absent.
DEFAULT_ADMIN_EMAIL = "admin@aiorch.localhost"
DEFAULT_ADMIN_PASSWORD = "change-me-aiorch-admin"  # noqa: S105 - a documented local-only default
METRICS_SECRET = "metrics"  # noqa: S105 - the name of the /metrics scrape token in secrets.json


class StartupError(Exception):
    """The cluster could not start; ``process`` names whose log tail explains why."""

    def __init__(self, message: str, process: str | None = None) -> None:
        super().__init__(message)
        self.process = process


def service_command(service: str, subcommand: str) -> list[str]:
    """The service's console script: this venv's (the one running us), else the first on PATH."""
    name = f"aiorch-{service}"
    script = BIN_DIR / name if (BIN_DIR / name).exists() else shutil.which(name)
    if script is None:
        raise StartupError(f"{name} not found in {BIN_DIR} or on PATH: run `make install`")
    return [str(script), subcommand]


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def restart_delay(up_for_s: float, quick_failures: int) -> tuple[float, int]:
    """The delay before a restart and the new count of quick failures (exits within a minute)."""
    if up_for_s > STABLE_AFTER_S:
        return 0.5, 0
    quick_failures += 1
    return min(MAX_RESTART_DELAY_S, 2.0 ** (quick_failures - 1)), quick_failures


def _is_postgres(proc: psutil.Process) -> bool:
    try:
        return bool(proc.name().startswith("postgres"))
    except psutil.Error:
        return False


async def wait_until(predicate: Callable[[], bool], within_s: float) -> bool:
    """Poll: a process group has no handle to await (its members are not all our children)."""
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def service_urls(config: ClusterConfig) -> list[str]:
    """What a person needs to reach the cluster; no password ever appears."""
    lines = []
    for service in SERVICES:
        base = f"http://127.0.0.1:{config.api_port(service)}"
        lines.append(f"  {service:<13} {base}/api/v1")
        lines.append(
            f"  {'':<13} OpenAPI {base}/schema  metrics /metrics (bearer: secrets.json {METRICS_SECRET!r})"
            "  health /health/ready"
        )
        if config.replicas > 1:
            others = ", ".join(str(config.api_port(service, r)) for r in range(2, config.replicas + 1))
            lines.append(f"  {'':<13} {config.replicas} replicas: the others on port {others}")
    if config.embedded_postgres:
        where = config.state_dir / "postgres"
        lines.append(f"  {'PostgreSQL':<13} 127.0.0.1:{config.pg_port} (embedded, data in {where})")
    elif config.provisioned_services:
        lines.append(f"  {'PostgreSQL':<13} external (DATABASE_URL)")
    if config.embedded_nats:
        where = config.state_dir / "nats"
        lines.append(f"  {'NATS':<13} nats://127.0.0.1:{config.nats_port} (embedded, JetStream in {where})")
    else:
        lines.append(f"  {'NATS':<13} external (NATS_URL)")
    if config.local_model:
        lines += llm_lines(config)
    return lines


@dataclass(eq=False)
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    pump: asyncio.Task[None] | None = None
    started_at: float = 0.0
    quick_failures: int = 0


@dataclass
class Supervisor:
    config: ClusterConfig
    state: StateDir
    sink: LogSink
    children: dict[str, Child] = field(default_factory=dict)
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    servers: dict[str, ProcessRecord] = field(default_factory=dict)
    phase: str = "starting"
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _server_jobs: list[asyncio.Future[None]] = field(default_factory=list)
    _keepers: list[asyncio.Task[None]] = field(default_factory=list)
    stop_hint: str = "make down stops everything."
    _step: str = "starting"  # what start_all is doing, for a timeout's message
    _ready_answers: dict[str, str] = field(default_factory=dict)
    _secrets_existed: bool = True

    # --- the whole life -----------------------------------------------------------

    async def main(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self._on_signal, sig)
        os.environ[MARKER_ENV] = str(self.state.root)  # inherited by the servers we start
        self._publish()
        started = time.monotonic()
        startup = asyncio.create_task(asyncio.wait_for(self.start_all(), self.config.ready_timeout))
        stop = asyncio.create_task(self.stopping.wait())
        await asyncio.wait({startup, stop}, return_when=asyncio.FIRST_COMPLETED)
        code = 0
        if not startup.done():
            self.sink.say("stop requested while starting")
            startup.cancel()
        try:
            await startup
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            self._report_failure(exc)
            code = 1
        else:
            self.phase = "ready"
            self._publish()
            self.sink.banner(
                [
                    f"aiorch is up ({time.monotonic() - started:.1f} s)",
                    *service_urls(self.config),
                    self.stop_hint,
                ]
            )
            await self.supervise()
        stop.cancel()
        await self.shutdown()
        return code

    def _on_signal(self, sig: signal.Signals) -> None:
        if not self.stopping.is_set():
            self.sink.say(f"{sig.name} received: stopping")
        self.stopping.set()

    def _report_failure(self, exc: BaseException) -> None:
        if isinstance(exc, TimeoutError):
            self.sink.say(f"not ready after {self.config.ready_timeout:.0f} s, while {self._step}")
            for name in self._ready_answers:
                self._say_tail(name)
            return
        self.sink.say(f"start failed: {exc}")
        if isinstance(exc, StartupError) and exc.process:
            self._say_tail(exc.process)

    def _say_tail(self, name: str) -> None:
        lines = self.sink.tail(name)
        if lines:
            self.sink.say(f"last lines of {name}:")
            for line in lines:
                self.sink.say(f"  {line}")

    # --- start --------------------------------------------------------------------

    async def start_all(self) -> None:
        self._check_ports_free()
        self._secrets_existed = self.state.secrets_file.exists()
        passwords = load_secrets(self.state, ["postgres", *self.config.provisioned_services])
        self._step = "starting PostgreSQL and NATS"
        await self._start_servers(passwords["postgres"])
        self._step = "provisioning roles and schemas"
        database_urls = await self._provision(passwords)
        envs = {s: self._service_env(s, database_urls[s]) for s in SERVICES}
        if self.config.local_model:  # it loads its weights while the services migrate
            await self._spawn(Child(LLM_PROCESS, llm_command(self.config), dict(os.environ)))
        self._step = "migrating"
        self.sink.say("migrating " + ", ".join(SERVICES))
        await asyncio.gather(
            *(self._run_to_end(f"{s}-migrate", service_command(s, "migrate"), envs[s]) for s in SERVICES)
        )
        for name, service, role, replica in self.config.service_processes():
            env = {
                **envs[service],
                f"{env_prefix(service)}HTTP_PORT": str(self.config.api_port(service, replica)),
                f"{env_prefix(service)}WORKER_METRICS_PORT": str(self.config.worker_port(service, replica)),
            }
            await self._spawn(Child(name, service_command(service, role), env))
        self._publish()
        self._step = "waiting for /health/ready"
        await self._wait_ready()

    def _check_ports_free(self) -> None:
        for owner, port in self.config.ports_to_bind().items():
            if port_open(port):
                variable = port_variable(owner)
                raise StartupError(
                    f"port {port} (for {owner}) is already in use; choose another with {variable}"
                )

    async def _start_servers(self, superuser_password: str) -> None:
        jobs: list[Awaitable[None]] = []
        if self.config.embedded_postgres:
            self.postgres = EmbeddedPostgres(self.state.postgres, self.config.pg_port, superuser_password)
            jobs.append(self._in_thread("postgres", self._start_postgres))
        if self.config.embedded_nats:
            self.nats = EmbeddedNats(self.state.nats, self.config.nats_port)
            jobs.append(self._in_thread("nats", self._start_nats))
        await asyncio.gather(*jobs)
        self._publish()

    async def _in_thread(self, name: str, start: Callable[[], None]) -> None:
        """Run a blocking server start; shutdown waits for it, even if we stop being interested."""
        self.sink.say(f"starting {name}")
        job = asyncio.ensure_future(asyncio.to_thread(start))
        self._server_jobs.append(job)
        try:
            await asyncio.shield(job)
        except (StartupError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a timeout in here is not the cluster's ready timeout
            raise StartupError(f"{name} did not start: {exc}") from exc
        self.sink.say(f"{name} is up")

    def _start_postgres(self) -> None:
        assert self.postgres is not None
        self._clear_dead_postmaster()
        if (self.postgres.pgdata / "PG_VERSION").exists() and not self._secrets_existed:
            raise StartupError(
                f"{self.state.secrets_file} was lost but the database in {self.postgres.pgdata} remains; "
                "its passwords are gone with it: `make clean` starts afresh"
            )
        try:
            self.postgres.start()
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
            raise StartupError(
                f"PostgreSQL did not start: {' / '.join(detail)} "
                f"(see {self.postgres.data_dir / 'postgres.log'})"
            ) from None
        pid = int((self.postgres.pgdata / "postmaster.pid").read_text().split()[0])
        self.servers["postgres"] = ProcessRecord.of(pid)
        self._secrets_existed = True  # a restart finds the data that goes with them

    def _clear_dead_postmaster(self) -> None:
        """Remove the lock file of a PostgreSQL that died (kill -9), once its backends are gone.

        Its pid may linger as a zombie (in a container, nothing may reap it), which pg_ctl and
        PostgreSQL both take for a running server: they would refuse to start, or wait for a
        server that never listens. Backends notice their postmaster's death and exit; the lock
        file goes only once none of this cluster's PostgreSQL processes is left.
        """
        assert self.postgres is not None
        lock = self.postgres.pgdata / "postmaster.pid"
        pid = pid_in(lock)
        if pid is None:
            return
        if process_alive(pid):
            return  # running (ours or adopted): pg_ctl start finds it and returns
        deadline = time.monotonic() + STOP_GRACE_S
        while any(_is_postgres(p) for p in marked_processes(self.state)):
            if time.monotonic() > deadline:
                raise StartupError("the backends of the PostgreSQL that died are still running")
            time.sleep(0.1)
        lock.unlink(missing_ok=True)

    def _start_nats(self) -> None:
        assert self.nats is not None
        if self.nats.process is not None and self.nats.process.poll() is not None:
            self.nats.process = None  # reaped: the handle of a server that died
        self.nats.start(log_file=self.state.process_log("nats"))
        if self.nats.process is not None:
            self.servers["nats"] = ProcessRecord.of(self.nats.process.pid)
            return
        # The port was open already: adopt the server only if it is this cluster's
        # (started by a test or a person with our marker), never another program.
        pid = listener_pid(self.config.nats_port)
        if pid is None or not is_marked(pid, self.state):
            raise StartupError(f"port {self.config.nats_port} is held by another program (pid {pid})")
        self.servers["nats"] = ProcessRecord.of(pid)

    async def _provision(self, passwords: dict[str, str]) -> dict[str, str]:
        urls = dict(self.config.own_database_urls)
        if not self.config.provisioned_services:
            return urls
        from shared.db.provision import provision_service, service_url

        admin_url = self.config.external_admin_url or (self.postgres.url if self.postgres else "")
        # One after the other: roles and grants touch the same catalog rows.
        for service in self.config.provisioned_services:
            try:
                await provision_service(admin_url, service, passwords[service])
            except (OSError, ValueError, asyncpg.PostgresError) as exc:
                where = "DATABASE_URL" if self.config.external_admin_url else "the embedded PostgreSQL"
                raise StartupError(f"provisioning {service} on {where} failed: {exc}") from None
            urls[service] = service_url(admin_url, service, passwords[service])
        self.sink.say("provisioned roles and schemas: " + ", ".join(self.config.provisioned_services))
        return urls

    def _nats_url(self) -> str:
        return self.config.external_nats_url or (self.nats.url if self.nats else "")

    def _service_env(self, service: str, database_url: str) -> dict[str, str]:
        env = dict(os.environ)
        # DATABASE_URL is the admin URL here; a service gets its own role's URL only.
        env.pop("DATABASE_URL", None)
        # Tokens are issued by identity wherever it listens; the services' defaults
        # assume port 8001. A value the user set wins.
        identity = f"http://127.0.0.1:{self.config.api_port('identity')}"
        env.setdefault("AIORCH_JWT_ISSUER", identity)
        env.setdefault("AIORCH_JWKS_URL", f"{identity}/.well-known/jwks.json")
        prefix = env_prefix(service)
        env.update(
            {
                f"{prefix}DATABASE_URL": database_url,
                f"{prefix}NATS_URL": self._nats_url(),
                f"{prefix}HTTP_HOST": "127.0.0.1",
                f"{prefix}HTTP_PORT": str(self.config.api_port(service)),
                "LOG_LEVEL": self.config.log_level,
                MARKER_ENV: str(self.state.root),
            }
        )
        # /metrics answers only a scrape with this token; kept with the cluster's other secrets
        env.setdefault("AIORCH_METRICS_TOKEN", load_secrets(self.state, [METRICS_SECRET])[METRICS_SECRET])
        # Unbuffered, every log line would be a write(2) of its own: the services flush their
        # logs in batches (shared.log_output), a few hundredths of a second apart.
        env.pop("PYTHONUNBUFFERED", None)
        if service == "orchestrator" and self.config.local_model:
            env.setdefault(LOCAL_MODEL_URL_ENV, llm_url(self.config))
            env.setdefault(LOCAL_MODEL_NAME_ENV, MODEL_ALIAS)
        if service == "identity":
            # identity's signing keys and the mail it "sends" live with the cluster's state
            env.setdefault("IDENTITY_KEYS_DIR", str(self.state.root / "identity-keys"))
            env.setdefault("IDENTITY_MAIL_DIR", str(self.state.root / "mail"))
            env.setdefault("AIORCH_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL)
            env.setdefault("AIORCH_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD)
        if service in ("orchestrator", "chat"):
            # seals AI-model API keys in orchestrator's events for the services that call models
            env.setdefault("AIORCH_MODEL_SEAL_KEY_FILE", str(self.state.root / "model-seal-key.json"))
        if service == "orchestrator":
            # the model registry's API keys are encrypted at rest under these (rotate-model-keys)
            env.setdefault(
                "ORCHESTRATOR_MODEL_KEYS_FILE", str(self.state.root / "orchestrator-keys" / "model-keys.json")
            )
            # the offline model streams at a pace a person can watch
            env.setdefault("ORCHESTRATOR_OFFLINE_PACE_MS", "15")
        if service == "chat":
            env.setdefault("CHAT_OFFLINE_PACE_MS", "15")
            # attachments' bytes live with the cluster's other state
            env.setdefault("CHAT_BLOB_DIR", str(self.state.root / "chat-blobs"))
        return env

    async def _run_to_end(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        child = Child(name, argv, env)
        await self._spawn(child)
        assert child.process is not None
        assert child.pump is not None
        code = await child.process.wait()
        await child.pump
        del self.children[name]
        if code != 0:
            raise StartupError(f"{name} failed with exit code {code}", name)

    async def _wait_ready(self) -> None:
        pending = {
            name: f"http://127.0.0.1:{self.config.api_port(service, replica)}/health/ready"
            for name, service, role, replica in self.config.service_processes()
            if role == "api"
        }
        if self.config.local_model:
            pending[LLM_PROCESS] = llm_ready_url(self.config)
        self._ready_answers = dict.fromkeys(pending, "no answer yet")
        async with httpx.AsyncClient(timeout=2.0) as client:
            while pending:
                self._fail_if_any_exited()
                for process, url in list(pending.items()):
                    try:
                        answer = await client.get(url)
                    except httpx.HTTPError as exc:
                        self._ready_answers[process] = type(exc).__name__
                        continue
                    if answer.status_code == 200:
                        del pending[process]
                        del self._ready_answers[process]
                        self.sink.say(f"{process} is ready")
                    else:
                        self._ready_answers[process] = f"{answer.status_code}: {answer.text[:200]}"
                waiting = "; ".join(f"{s}: {a}" for s, a in self._ready_answers.items())
                self._step = f"waiting for /health/ready of {waiting}"
                await asyncio.sleep(0.2)

    def _fail_if_any_exited(self) -> None:
        for child in self.children.values():
            if child.process is not None and child.process.returncode is not None:
                raise StartupError(
                    f"{child.name} exited with code {child.process.returncode} while starting", child.name
                )

    # --- processes ----------------------------------------------------------------

    async def _spawn(self, child: Child) -> None:
        child.process = await asyncio.create_subprocess_exec(
            *child.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=child.env,
            start_new_session=True,
        )
        child.started_at = time.monotonic()
        assert child.process.stdout is not None
        child.pump = asyncio.create_task(self._pump(child.name, child.process.stdout))
        self.children[child.name] = child

    async def _pump(self, name: str, stream: asyncio.StreamReader) -> None:
        # One await per chunk the pipe holds, not per line: a service under load writes an
        # access line per request.
        lines = LineSplitter(LINE_LIMIT)
        while chunk := await stream.read(PIPE_CHUNK):
            for line in lines.feed(chunk):
                self.sink.write(name, line)
        for line in lines.end():
            self.sink.write(name, line)

    async def supervise(self) -> None:
        self._keepers = [asyncio.create_task(self._keep_running(c)) for c in list(self.children.values())]
        if self.postgres is not None:
            self._keepers.append(asyncio.create_task(self._keep_server("postgres", self._start_postgres)))
        if self.nats is not None:
            self._keepers.append(asyncio.create_task(self._keep_server("nats", self._start_nats)))
        await self.stopping.wait()

    async def _keep_server(self, name: str, start: Callable[[], None]) -> None:
        """Restart an embedded server that died, with the services' back-off.

        pg_ctl daemonises PostgreSQL, so it is no child of ours to await: the recorded
        pid and start time are polled instead (a reused pid has another start time).
        """
        started_at = time.monotonic()
        quick_failures = 0
        while not self.stopping.is_set():
            current = self.servers.get(name)
            if current is not None and current.alive():
                await asyncio.sleep(SERVER_POLL_S)
                continue
            delay, quick_failures = restart_delay(time.monotonic() - started_at, quick_failures)
            gone = f" (pid {current.pid})" if current else ""
            self.sink.say(f"{name}{gone} is not running; restarting in {delay:.1f} s")
            self.servers.pop(name, None)
            self._publish()
            await asyncio.sleep(delay)
            if self.stopping.is_set():
                return
            started_at = time.monotonic()
            try:
                await self._in_thread(name, start)
            except StartupError as exc:
                self.sink.say(str(exc))
            self._publish()

    async def _keep_running(self, child: Child) -> None:
        while True:
            assert child.process is not None
            assert child.pump is not None
            code = await child.process.wait()
            await child.pump
            if self.stopping.is_set():
                return
            up_for = time.monotonic() - child.started_at
            delay, child.quick_failures = restart_delay(up_for, child.quick_failures)
            self.sink.say(f"{child.name} exited with code {code}; restarting in {delay:.1f} s")
            await asyncio.sleep(delay)
            if self.stopping.is_set():
                return
            await self._spawn(child)
            self._publish()

    # --- stop ---------------------------------------------------------------------

    async def shutdown(self) -> None:
        self.phase = "stopping"
        self._publish()
        for keeper in self._keepers:
            keeper.cancel()
        await self._stop_children()
        # a server still starting in its thread must finish before it can be stopped
        await asyncio.gather(*self._server_jobs, return_exceptions=True)
        # EmbeddedNats.stop and pg_ctl signal the pid in their pid file, which may be stale
        # (the server died, the pid was reused): only a server proven ours is stopped.
        if self.nats is not None and self._own_server("nats"):
            self.sink.say("stopping nats")
            await asyncio.to_thread(self.nats.stop)
        if self.postgres is not None and self._own_server("postgres"):
            self.sink.say("stopping postgres")
            await asyncio.to_thread(self.postgres.stop)
        self.state.run_file.unlink(missing_ok=True)
        self.sink.say("stopped")

    def _own_server(self, name: str) -> bool:
        """The pid the server's pid file names is a live process carrying this cluster's marker.

        A recorded pid alone is not enough: a server that failed its start may still run
        unrecorded, and a pid file left by a dead server may name an unrelated process.
        """
        if name == "nats":
            assert self.nats is not None
            if self.nats.process is not None and self.nats.process.poll() is None:
                return True
            pid_file = self.nats.pid_file
        else:
            assert self.postgres is not None
            pid_file = self.postgres.pgdata / "postmaster.pid"
        pid = pid_in(pid_file)
        return pid is not None and is_marked(pid, self.state)

    async def _stop_children(self) -> None:
        groups = {c.name: c.process.pid for c in self.children.values() if c.process is not None}
        if not groups:
            return
        self.sink.say(f"stopping {len(groups)} processes")
        for pgid in groups.values():
            signal_group(pgid, signal.SIGTERM)
        await wait_until(lambda: not any(group_alive(g) for g in groups.values()), STOP_GRACE_S)
        for name, pgid in groups.items():
            if group_alive(pgid):
                self.sink.say(f"{name} did not stop within {STOP_GRACE_S:.0f} s: killed")
                signal_group(pgid, signal.SIGKILL)
        pumps = [c.pump for c in self.children.values() if c.pump is not None]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*pumps, return_exceptions=True), 5)
        for child in self.children.values():
            if child.process is not None:
                await child.process.wait()

    # --- the run file -------------------------------------------------------------

    def _publish(self) -> None:
        """Tell `up`, `down`, `status` and the tests what runs, under which pids."""
        processes: dict[str, Any] = {n: {"pid": r.pid, "started": r.started} for n, r in self.servers.items()}
        for child in self.children.values():
            if child.process is not None and child.process.returncode is None:
                with contextlib.suppress(Exception):
                    rec = ProcessRecord.of(child.process.pid)
                    processes[child.name] = {"pid": rec.pid, "started": rec.started}
        me = ProcessRecord.of(os.getpid())
        write_run_file(
            self.state,
            {
                "supervisor": {"pid": me.pid, "started": me.started},
                "phase": self.phase,
                "state_dir": str(self.state.root),
                "ports": self.config.ports_to_bind(),
                "embedded": {"postgres": self.config.embedded_postgres, "nats": self.config.embedded_nats},
                "processes": processes,
            },
        )
