"""The local cluster: embedded PostgreSQL and NATS plus the three services.

    .venv/bin/python deploy/local/cluster.py run      foreground; Ctrl-C stops all
    .venv/bin/python deploy/local/cluster.py up       background; returns once every service is ready
    .venv/bin/python deploy/local/cluster.py down     stop what `up` (or a crashed `run`) left running
    .venv/bin/python deploy/local/cluster.py status   each process, its pid and port
    .venv/bin/python deploy/local/cluster.py restart NAME   stop one process; the supervisor starts it again
    .venv/bin/python deploy/local/cluster.py logs     follow the combined log
    .venv/bin/python deploy/local/cluster.py clean    down, then delete the cluster's data and logs

Settings (environment): AIORCH_STATE_DIR, AIORCH_PG_PORT, AIORCH_NATS_PORT,
AIORCH_{IDENTITY,CHAT,ORCHESTRATOR}_PORT, DATABASE_URL (admin URL of an external
PostgreSQL), NATS_URL, {IDENTITY,CHAT,ORCHESTRATOR}_DATABASE_URL, LOG_LEVEL.
See deploy/local/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import httpx
import psutil  # type: ignore[import-untyped]
from cluster_config import LLM_PROCESS, ROLES, SERVICES, ClusterConfig, ConfigError, load_config
from cluster_logs import LogSink, rotate, tail
from cluster_state import (
    OWN_ENTRIES,
    ProcessRecord,
    StateDir,
    is_marked,
    listener_pid,
    marked_processes,
    pid_in,
    read_run_file,
    record,
    supervisor_record,
)
from cluster_supervisor import Supervisor, service_urls

from aiorch_devkit.devservers import EmbeddedPostgres
from aiorch_devkit.devservers.ports import port_open

SUPERVISOR_EXIT_TIMEOUT_S = 60.0
LEFTOVER_GRACE_S = 10.0
FAILURE_TAIL_LINES = 80
SERVICE_LINE = re.compile(rf"^({'|'.join(SERVICES)})-({'|'.join((*ROLES, 'migrate'))})(-[0-9])?\s* \| ")


def say(message: str) -> None:
    print(f"cluster: {message}", flush=True)


# --- run / up ------------------------------------------------------------------------


def refuse_if_running(state: StateDir) -> bool:
    running = supervisor_record(state)
    if running is not None:
        say(f"already running (supervisor pid {running.pid}, state in {state.root}); `make down` stops it")
    return running is not None


def run(config: ClusterConfig, state: StateDir, *, echo: bool) -> int:
    """Be the supervisor, in this process (foreground `run`, or the detached half of `up`)."""
    state.prepare()
    if echo:  # `up` rotates before it hands the log to the detached supervisor
        rotate(state.combined_log)
    sink = LogSink(state, echo=echo)
    try:
        hint = "Ctrl-C stops everything." if echo else "make down stops everything."
        return asyncio.run(Supervisor(config, state, sink, stop_hint=hint).main())
    finally:
        sink.close()


def up(config: ClusterConfig, state: StateDir) -> int:
    """Start the supervisor detached, and return once it reports every service ready."""
    if refuse_if_running(state):
        print("\n".join(service_urls(config)))
        return 0
    sweep_leftovers(state)
    state.prepare()
    rotate(state.combined_log)
    started = time.monotonic()
    log_offset = state.combined_log.stat().st_size if state.combined_log.exists() else 0
    with state.combined_log.open("ab") as log:
        # its own session: it outlives this command and no terminal signal reaches it
        supervisor = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "supervise"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = started + config.ready_timeout + SUPERVISOR_EXIT_TIMEOUT_S
    while True:
        data = read_run_file(state) or {}
        if data.get("phase") == "ready" and data["supervisor"]["pid"] == supervisor.pid:
            print(f"aiorch is up ({time.monotonic() - started:.1f} s)")
            print("\n".join(service_urls(config)))
            print("Logs: make logs   Status: make status   Stop: make down")
            return 0
        if supervisor.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    down(config, state, quiet=True)
    say(f"the cluster did not start; from {state.combined_log}:")
    print("\n".join(supervisor_lines(state, log_offset)[-FAILURE_TAIL_LINES:]), flush=True)
    return 1


def supervisor_lines(state: StateDir, start: int) -> list[str]:
    """The supervisor's account of a failed start (with the failing process's tail in it).

    The services' own lines are left out: they would bury the reason under the
    chatter of the processes that were fine.
    """
    lines = tail(state.combined_log, 100_000, start=start)
    return [line for line in lines if not SERVICE_LINE.match(line)]


# --- down ----------------------------------------------------------------------------


def wait_gone(is_alive: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive():
            return True
        time.sleep(0.05)
    return False


def stop_supervisor(state: StateDir) -> bool:
    """Ask the supervisor to stop everything in order; kill it if it hangs."""
    running = supervisor_record(state)
    if running is None:
        return False
    os.kill(running.pid, signal.SIGTERM)
    if not wait_gone(running.alive, SUPERVISOR_EXIT_TIMEOUT_S):
        say(f"supervisor {running.pid} did not stop within {SUPERVISOR_EXIT_TIMEOUT_S:.0f} s: killed")
        os.kill(running.pid, signal.SIGKILL)
        wait_gone(running.alive, 5)
    return True


def postmaster_pid(state: StateDir) -> int | None:
    return pid_in(state.postgres / "pgdata" / "postmaster.pid")


def sweep_leftovers(state: StateDir) -> int:
    """Stop every process still carrying this cluster's marker (a crashed supervisor's).

    PostgreSQL first goes through pg_ctl so it shuts down cleanly; the rest get
    SIGTERM, then SIGKILL after a grace period. Returns how many were found.
    """
    leftovers = marked_processes(state)
    if not leftovers:
        return 0
    if postmaster_pid(state) in {p.pid for p in leftovers}:
        EmbeddedPostgres(state.postgres, 0).stop()
        leftovers = marked_processes(state)
    for proc in leftovers:
        try:
            proc.terminate()
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(leftovers, timeout=LEFTOVER_GRACE_S)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=5)
    return len(leftovers)


def recorded_ports(state: StateDir, config: ClusterConfig) -> list[int]:
    data = read_run_file(state) or {}
    ports = data.get("ports") or config.ports_to_bind()
    return [int(p) for p in ports.values()]


def down(config: ClusterConfig, state: StateDir, *, quiet: bool = False) -> int:
    ports = recorded_ports(state, config)
    stopped = stop_supervisor(state)
    leftovers = sweep_leftovers(state)
    if leftovers and not quiet:
        say(f"stopped {leftovers} leftover process(es) of an earlier run")
    state.run_file.unlink(missing_ok=True)
    if not (stopped or leftovers):
        if not quiet:
            say("was not running")
        return 0
    # our processes are gone; a port still open belongs to another program
    wait_gone(lambda: any(port_open(p) for p in ports), 5)
    busy = [p for p in ports if port_open(p)]
    if not quiet:
        say("stopped")
        if busy:
            say(f"note: ports {busy} are in use by other programs")
    return 0


# --- status / logs / clean -------------------------------------------------------------


def _probe(url: str) -> str:
    try:
        answer = httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return "no answer"
    return "ready" if answer.status_code == 200 else f"not ready ({answer.status_code})"


def _port_column(
    name: str, ports: dict[str, int], rec: ProcessRecord | None, state: StateDir
) -> tuple[str, str]:
    if name in ("postgres", "nats"):
        # who really listens, not what a pid file claims
        port = ports[name]
        holder = listener_pid(port)
        if holder is None:
            return str(port), "listening" if port_open(port) else "closed"
        if rec is not None and holder == rec.pid:
            return str(port), "listening"
        whose = "this cluster's" if is_marked(holder, state) else "NOT this cluster's"
        return str(port), f"listening, by pid {holder} ({whose}, not the recorded one)"
    if name == LLM_PROCESS:
        port = ports[LLM_PROCESS]
        return str(port), _probe(f"http://127.0.0.1:{port}/v1/models")
    listening = ports.get(name)  # an API's, or a worker's health and metrics
    if listening is None:  # a run file of a cluster started before workers had ports
        return "-", ""
    return str(listening), _probe(f"http://127.0.0.1:{listening}/health/ready")


def status(config: ClusterConfig, state: StateDir) -> int:
    running = supervisor_record(state)
    data = read_run_file(state) if running else None
    if running is None or data is None:
        leftovers = marked_processes(state)
        say(f"not running (state in {state.root})")
        if leftovers:
            say(f"{len(leftovers)} leftover process(es) of a crashed run: `make down` stops them")
        return 3
    since = time.strftime("%H:%M:%S", time.localtime(running.started))
    say(f"{data['phase']}, supervisor pid {running.pid} since {since}, state in {state.root}")
    print(f"{'PROCESS':<22}{'PID':>8}  {'STATE':<9}{'PORT':>6}  HEALTH")
    names = [n for n in ("postgres", "nats") if n in data["processes"]]
    # the running cluster's processes (its replicas), whatever this shell's AIORCH_REPLICAS says
    names += [name for name in data["ports"] if name not in ("postgres", "nats", LLM_PROCESS)]
    names += [n for n in (LLM_PROCESS,) if n in data["processes"]]
    for name in names:
        rec = record(data["processes"], name)
        pid = str(rec.pid) if rec else "-"
        alive = rec is not None and rec.alive()
        port, health = _port_column(name, data["ports"], rec, state)
        print(f"{name:<22}{pid:>8}  {'running' if alive else 'stopped':<9}{port:>6}  {health}")
    for name, embedded in data["embedded"].items():
        if not embedded:
            print(f"{name:<22}{'-':>8}  {'external':<9}")
    return 0


# How each kind of process is asked to stop: PostgreSQL's SIGINT is its fast shutdown
# (SIGTERM would wait for every client to disconnect); a service's whole process group
# (the server and any workers it forked) gets SIGTERM.
RESTART_SIGNALS = {"postgres": signal.SIGINT, "nats": signal.SIGTERM}


def restart(state: StateDir, name: str) -> int:
    """Stop one process of the running cluster; its supervisor starts it again."""
    running = supervisor_record(state)
    data = read_run_file(state) if running else None
    if running is None or data is None:
        say(f"not running (state in {state.root})")
        return 3
    names = sorted(data["processes"])
    rec = record(data["processes"], name)
    if rec is None:
        say(f"no process {name!r}; one of: {', '.join(names)}")
        return 2
    # the recorded pid must still be that process (same start time) and ours (marker)
    if not (rec.alive() and is_marked(rec.pid, state)):
        say(f"{name} (pid {rec.pid}) is not running; the supervisor is restarting it")
        return 0
    sig = RESTART_SIGNALS.get(name, signal.SIGTERM)
    if name in RESTART_SIGNALS:
        os.kill(rec.pid, sig)
    else:
        os.killpg(rec.pid, sig)  # each service runs in a session (and group) of its own
    say(f"{name}: sent {sig.name} to pid {rec.pid}; the supervisor starts it again (`make status`)")
    return 0


def logs(state: StateDir) -> NoReturn:
    state.prepare()
    state.combined_log.touch()
    # this process becomes `tail -F`, so Ctrl-C ends it like any tail
    os.execvp("tail", ["tail", "-n", "100", "-F", str(state.combined_log)])  # noqa: S606


def clean(config: ClusterConfig, state: StateDir) -> int:
    down(config, state, quiet=True)
    for entry in OWN_ENTRIES:
        path = state.root / entry
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    say(f"removed the cluster's data, logs and secrets from {state.root}")
    return 0


# --- command line ------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    # pgserver's platformdirs warns about XDG_RUNTIME_DIR, which it does not need here
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    parser = argparse.ArgumentParser(prog="cluster.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "command", choices=["run", "up", "down", "status", "restart", "logs", "clean", "supervise"]
    )
    parser.add_argument("process", nargs="?", help="restart: the process, as `status` names it")
    args = parser.parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        say(str(exc))
        return 2
    state = StateDir(config.state_dir)
    match args.command:
        case "run":
            if refuse_if_running(state):
                return 1
            sweep_leftovers(state)
            return run(config, state, echo=True)
        case "supervise":  # the detached half of `up`
            return run(config, state, echo=False)
        case "up":
            return up(config, state)
        case "down":
            return down(config, state)
        case "status":
            # `make status | head` closes the pipe early: that ends the listing, not in a traceback
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            return status(config, state)
        case "restart":
            if not args.process:
                say("restart needs the process: `make restart P=chat-api` (names: `make status`)")
                return 2
            return restart(state, args.process)
        case "logs":
            return logs(state)
        case _:
            return clean(config, state)


if __name__ == "__main__":
    sys.exit(main())
