"""`make up` then `make down`, as a developer runs them, on a private cluster.

The cluster gets its own state directory and free ports, so the test never
meets a cluster the developer has running (nor the system's PostgreSQL and
NATS), and its environment is cleared of every variable that would point it
at other servers. The cluster runs its own embedded PostgreSQL and NATS or the
test servers' (see the ``cluster`` fixture); it records, starts and stops only
its own.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest

from aiorch_devkit.devservers.ports import port_open

from .conftest import MARKER_ENV, SERVICES, PrivateCluster

UP_BUDGET_S = 60


def alive(pid: int, started: float) -> bool:
    """The recorded process itself (same pid *and* start time), not a zombie."""
    try:
        proc = psutil.Process(pid)
        return proc.create_time() == started and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def marked_processes(state_dir: Path) -> list[int]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(MARKER_ENV) == str(state_dir) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def requests_counted(metrics: str, path: str) -> float:
    """The sum of ``aiorch_requests_total`` over the series of one route."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("aiorch_requests_total{") and f'path="{path}"' in line
    )


def test_make_up_serves_every_service_and_make_down_leaves_nothing(cluster: PrivateCluster) -> None:
    # chat on two API processes: /metrics, whichever answers, must count the requests of both
    cluster.env["CHAT_HTTP_WORKERS"] = "2"
    started = time.monotonic()
    try:
        up = cluster.make("up", timeout=UP_BUDGET_S)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"make up did not return within {UP_BUDGET_S} s:\n{exc.stdout}\n{exc.stderr}")
    took = time.monotonic() - started
    assert up.returncode == 0, f"make up failed after {took:.1f} s:\n{up.stdout}{up.stderr}"

    # /metrics is off the public surface: a scrape sends the cluster's metrics token
    metrics_token = json.loads((cluster.state_dir / "secrets.json").read_text())["metrics"]
    scraper = {"authorization": f"Bearer {metrics_token}"}
    for service in SERVICES:
        base = cluster.url(service)
        for path in ("/health/ready", "/schema/openapi.json", "/metrics"):
            answer = httpx.get(base + path, timeout=10, headers=scraper)
            assert answer.status_code == 200, f"{service} {path}: {answer.status_code} {answer.text[:300]}"
            assert "server" not in answer.headers, f"{service} {path} names its server"
            assert answer.headers["x-content-type-options"] == "nosniff"
        assert httpx.get(base + "/metrics", timeout=10).status_code == 401

    chat = cluster.url("chat")
    for _ in range(40):  # new connections, so both workers take some
        assert httpx.get(chat + "/api/v1/whoami", timeout=10).status_code == 401
    scrapes = [httpx.get(chat + "/metrics", timeout=10, headers=scraper).text for _ in range(6)]
    assert [requests_counted(scrape, "/api/v1/whoami") for scrape in scrapes] == [40.0] * 6

    run = json.loads((cluster.state_dir / "run" / "cluster.json").read_text())
    assert run["phase"] == "ready"
    assert run["embedded"] == {"postgres": cluster.embedded_postgres, "nats": cluster.embedded_nats}
    recorded = {"supervisor": run["supervisor"], **run["processes"]}
    own_servers = {"postgres"} if cluster.embedded_postgres else set()
    own_servers |= {"nats"} if cluster.embedded_nats else set()
    expected = {"supervisor"} | own_servers | {f"{s}-{r}" for s in SERVICES for r in ("api", "worker")}
    assert set(recorded) == expected
    assert all(alive(r["pid"], r["started"]) for r in recorded.values())

    down = cluster.make("down", timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr

    still_running = [name for name, r in recorded.items() if alive(r["pid"], r["started"])]
    assert still_running == [], f"still running after make down: {still_running}"
    open_ports = {name: port for name, port in cluster.ports.items() if port_open(port)}
    assert open_ports == {}, f"ports still open after make down: {open_ports}"
    assert marked_processes(cluster.state_dir) == []
    assert not (cluster.state_dir / "run" / "cluster.json").exists()
