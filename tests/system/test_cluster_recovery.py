"""The local supervisor keeps its embedded PostgreSQL and NATS running, and `make status` tells the truth.

Before, it restarted only the six service processes: a PostgreSQL or NATS that died stayed
dead, `make status` still printed their old pids, and on `make down` the supervisor signalled
whatever pid NATS's pid file named, which may since belong to another program.

The test needs the cluster's own embedded servers, whatever servers the rest of the suite runs
on (the harness's servers are not the supervisor's to restart).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import httpx
import psutil
import pytest

from .conftest import REPO, SERVICES, PrivateCluster

RECOVERY_BUDGET_S = 90


@pytest.fixture(scope="module")
def servers_provider() -> str:
    return "embedded"


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def all_ready(cluster: PrivateCluster) -> dict[str, int | str]:
    answers: dict[str, int | str] = {}
    for service in SERVICES:
        try:
            answers[service] = httpx.get(cluster.url(service, "/health/ready"), timeout=3).status_code
        except httpx.HTTPError as exc:
            answers[service] = type(exc).__name__
    return answers


def test_killed_postgres_and_nats_come_back_and_a_stale_pid_file_is_never_signalled(
    cluster: PrivateCluster,
) -> None:
    up = cluster.make("up", timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    before = cluster.processes()
    old = {name: int(before[name]["pid"]) for name in ("postgres", "nats")}

    # A program that is not the cluster's, whose pid the dead NATS's pid file will name
    # (as if the pid had been reused).
    bystander = subprocess.Popen(["sleep", "600"])
    try:
        killed_at = time.monotonic()
        for pid in old.values():
            os.kill(pid, signal.SIGKILL)
        (cluster.state_dir / "nats" / "nats.pid").write_text(str(bystander.pid))

        deadline = killed_at + RECOVERY_BUDGET_S
        while True:
            now = cluster.processes()
            new = {n: int(now[n]["pid"]) for n in old if n in now}
            back = len(new) == 2 and all(new[n] != old[n] and alive(new[n]) for n in old)
            ready = all_ready(cluster)
            if back and set(ready.values()) == {200}:
                break
            assert time.monotonic() < deadline, f"after {RECOVERY_BUDGET_S} s: servers {new}, ready {ready}"
            time.sleep(0.5)
        took = time.monotonic() - killed_at
        print(f"\nPostgreSQL and NATS killed: both back and every service ready in {took:.1f} s")

        status = cluster.make("status", timeout=60)
        assert status.returncode == 0, status.stdout + status.stderr
        rows = {line.split()[0]: line.split() for line in status.stdout.splitlines() if line.strip()}
        for name in ("postgres", "nats"):
            assert rows[name][1] == str(new[name]), status.stdout
            assert rows[name][2] == "running", status.stdout
            assert rows[name][4] == "listening", status.stdout

        # one process restarted on request, as deploy/local/README.md tells
        api = int(now["chat-api"]["pid"])
        restarted = subprocess.run(
            ["make", "-C", str(REPO), "restart", "P=chat-api"],
            env=cluster.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        deadline = time.monotonic() + RECOVERY_BUDGET_S
        while (
            cluster.processes().get("chat-api", {}).get("pid", api) == api
            or all_ready(cluster)["chat"] != 200
        ):
            assert time.monotonic() < deadline, (
                f"chat-api not restarted: {cluster.processes().get('chat-api')}"
            )
            time.sleep(0.5)
        assert not alive(api)

        down = cluster.make("down", timeout=180)
        assert down.returncode == 0, down.stdout + down.stderr
        assert bystander.poll() is None, "make down signalled a pid the cluster does not own"
        assert not any(alive(pid) for pid in new.values())
    finally:
        bystander.kill()
        bystander.wait()
