"""Two replicas of every API and worker, and nothing lost (issue 10).

One local cluster with ``AIORCH_REPLICAS=2`` (chat-api and chat-api-2, ... each worker twice), on
which the delivery proofs are repeated the way a real deployment would break them:

1. **Relay failover.** A burst of project creations over both orchestrator APIs; in the middle
   the worker whose relay holds the publishing lock is killed (SIGKILL), and a chat worker with
   it. The standby relay takes over within its poll interval, and every event is in the stream
   exactly once; chat's two competing ``chat.ownership`` consumers applied each exactly once.
2. **A chat reply resumed on the other API replica.** Three chunks read over SSE from the
   replica that writes the reply, the rest from the other one with ``Last-Event-ID``.
3. **Rolling restart under load.** Clients keep reading and writing on all three services while
   every process is restarted in turn (the first copies, then the second ones, then the
   workers): no request fails beyond one retried on the other replica, no event is lost, and
   the chat reply an API copy was writing when told to stop is finished before it exits.

Figures are printed (takeover time, drain times, retried and failed requests).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import psutil

from shared.messaging.connection import connect_nats

from .chat_client import User, chunk_seqs, eventually, sign_up, sse_frames, text_of
from .conftest import REPO, PrivateCluster, dead

REPLICAS = 2
BURST = 240
KILL_AFTER = 80
PACE_MS = 30  # the offline model's pace, and its shortest reply: a reply lasts about 6 s,
REPLY_TOKENS = 200  # long enough to switch replicas mid-way, or to be in flight at a restart


def test_two_replicas_of_everything_lose_nothing(cluster: PrivateCluster) -> None:
    cluster.env |= {
        "AIORCH_REPLICAS": str(REPLICAS),
        "CHAT_OFFLINE_PACE_MS": str(PACE_MS),
        "CHAT_OFFLINE_MIN_REPLY_TOKENS": str(REPLY_TOKENS),
    }
    up = cluster.make("up", timeout=240)
    assert up.returncode == 0, up.stdout + up.stderr
    figures = asyncio.run(Replicas(cluster).run())
    print(f"\nreplicas: {json.dumps(figures)}")


def replica_url(cluster: PrivateCluster, service: str, replica: int, path: str = "") -> str:
    """Copy ``replica`` of the service's API (deploy/local: the service's port + 10 per copy)."""
    return f"http://127.0.0.1:{cluster.ports[service] + 10 * (replica - 1)}{path}"


def worker_url(cluster: PrivateCluster, service: str, replica: int, path: str = "") -> str:
    """A worker's health and metrics (its API's port + 100)."""
    return f"http://127.0.0.1:{cluster.ports[service] + 10 * (replica - 1) + 100}{path}"


def process_name(service: str, role: str, replica: int) -> str:
    return f"{service}-{role}" if replica == 1 else f"{service}-{role}-{replica}"


@dataclass
class Load:
    """Clients on every service while processes restart: each request goes to one replica and, on a
    refused or dropped connection or a 503, is sent again to the other (as a load balancer would)."""

    user: User
    cluster: PrivateCluster
    ok: int = 0
    retried: int = 0
    failed: list[str] = field(default_factory=list)
    projects: set[str] = field(default_factory=set)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    async def request(self, method: str, service: str, path: str, expect: int, **kwargs: Any) -> Any:
        first = 1 + next(self._turn) % REPLICAS
        order = [first, 1 + first % REPLICAS] * 3
        last = ""
        for attempt, replica in enumerate(order):
            url = replica_url(self.cluster, service, replica, f"/api/v1{path}")
            try:
                answer = await self.user.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:  # refused (stopped) or closed (stopping) connection
                last = f"{type(exc).__name__} from {service} replica {replica}"
            else:
                if answer.status_code != 503:
                    if answer.status_code != expect:
                        self.failed.append(
                            f"{method} {service} {path}: {answer.status_code} {answer.text[:200]}"
                        )
                        return None
                    self.ok += 1
                    self.retried += attempt > 0
                    return answer.json()
                last = f"503 from {service} replica {replica}"
            await asyncio.sleep(0.05 * (attempt + 1))
        self.failed.append(f"{method} {service} {path}: {last}")
        return None

    async def client(self, stop: asyncio.Event, n: int) -> None:
        while not stop.is_set():
            created = await self.request("POST", "orchestrator", "/projects", 201, json={"name": f"Load {n}"})
            if created is not None:
                self.projects.add(created["id"])
                await self.request("GET", "orchestrator", f"/projects/{created['id']}", 200)
            await self.request("GET", "identity", "/users/me", 200)
            await self.request("GET", "chat", "/conversations", 200)


class Replicas:
    def __init__(self, cluster: PrivateCluster) -> None:
        self.cluster = cluster
        self.figures: dict[str, Any] = {}

    async def run(self) -> dict[str, Any]:
        self.user = await sign_up(self.cluster, "replicas@example.com")
        try:
            burst = await self.relay_failover_during_a_burst()
            await self.reply_resumed_on_the_other_replica()
            under_load = await self.rolling_restart_under_load()
            await self.every_event_once(burst | under_load)
        finally:
            await self.user.close()
        return self.figures

    # -- 1. relay failover, competing consumers --------------------------------------------------

    async def relay_failover_during_a_burst(self) -> set[str]:
        created: set[str] = set()
        leader = await self.leading_relay("orchestrator")
        chat_worker = process_name("chat", "worker", 2)
        load = Load(self.user, self.cluster)

        async def create(n: int) -> None:
            project = await load.request(
                "POST", "orchestrator", "/projects", 201, json={"name": f"Burst {n}"}
            )
            if project is not None:
                created.add(project["id"])

        async def kill_mid_burst() -> float:
            await eventually(self._at_least(created, KILL_AFTER), 60, f"{KILL_AFTER} projects created")
            killed_at = time.monotonic()
            self.kill(leader)
            self.kill(chat_worker)
            successor = await eventually(
                lambda: self.leading_relay_other_than("orchestrator", leader), 30, "a standby relay leads"
            )
            self.figures["relay_takeover_s"] = round(time.monotonic() - killed_at, 2)
            self.figures["relay_leader_killed"], self.figures["relay_leader_now"] = leader, successor
            return killed_at

        limit = asyncio.Semaphore(8)

        async def limited(n: int) -> None:
            async with limit:
                await create(n)

        await asyncio.gather(kill_mid_burst(), *(limited(n) for n in range(BURST)))
        assert load.failed == [], load.failed
        assert len(created) == BURST
        self.figures["burst_projects"] = BURST
        return created

    async def leading_relay(self, service: str) -> str:
        return await eventually(
            lambda: self.leading_relay_other_than(service, None), 30, f"{service} relay leads"
        )

    async def leading_relay_other_than(self, service: str, previous: str | None) -> str | None:
        """The worker whose relay holds the service's publishing lock (a PostgreSQL advisory lock),
        found by the client port of the lock holder's connection."""
        conn = await asyncpg.connect(self.cluster.role_url(service))
        try:
            port = await conn.fetchval(
                "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1",
                f"{service}-relay",
            )
        finally:
            await conn.close()
        if port is None:
            return None
        processes = self.cluster.processes()
        for replica in range(1, REPLICAS + 1):
            name = process_name(service, "worker", replica)
            if name == previous or name not in processes:
                continue
            try:
                ports = {c.laddr.port for c in psutil.Process(processes[name]["pid"]).net_connections("tcp")}
            except psutil.Error:
                continue
            if port in ports:
                return name
        return None

    def kill(self, name: str) -> None:
        """SIGKILL the process's whole group (a crash: nothing finished, nothing handed back)."""
        pid = int(self.cluster.processes()[name]["pid"])
        os.killpg(pid, signal.SIGKILL)

    @staticmethod
    def _at_least(items: set[str], count: int) -> Any:
        async def check() -> bool:
            return len(items) >= count

        return check

    # -- 2. a reply read from both replicas ------------------------------------------------------

    async def reply_resumed_on_the_other_replica(self) -> None:
        conversation = await self.user.json("POST", "/conversations", 201, json={"title": "Two replicas"})
        started = await self.user.json(
            "POST",
            f"/conversations/{conversation['id']}/messages",
            202,
            json={"content": "Tell me a long story about two servers"},
        )
        path = started["stream_url"]
        first = await sse_frames(self.user, path, chunks=3, url=replica_url(self.cluster, "chat", 1, path))
        rest = await sse_frames(
            self.user, path, last_event_id=first[-1]["seq"], url=replica_url(self.cluster, "chat", 2, path)
        )
        seqs = chunk_seqs(first + rest)
        assert seqs == list(range(1, len(seqs) + 1)), seqs
        assert rest[-1]["type"] == "done", rest[-1]
        stored = await self.user.json("GET", f"/messages/{started['reply']['id']}")
        assert stored["content"] == text_of(first + rest)
        self.figures["reply_chunks_replica_1_then_2"] = [len(chunk_seqs(first)), len(chunk_seqs(rest))]

    # -- 3. rolling restart under load -----------------------------------------------------------

    async def rolling_restart_under_load(self) -> set[str]:
        load = Load(self.user, self.cluster)
        stop = asyncio.Event()
        clients = [asyncio.create_task(load.client(stop, n)) for n in range(4)]
        waves = [
            [process_name(s, role, replica) for s in ("identity", "chat", "orchestrator")]
            for role, replica in (("api", 1), ("api", 2), ("worker", 1), ("worker", 2))
        ]
        drains: dict[str, float] = {}
        started = time.monotonic()
        try:
            await asyncio.sleep(1.0)  # load before the first restart
            in_flight = await self.reply_being_written_by("chat-api")
            for wave in waves:
                drains |= dict(await asyncio.gather(*(self.restart(name) for name in wave)))
            await asyncio.sleep(1.0)  # and after the last
        finally:
            stop.set()
            await asyncio.gather(*clients)
        self.figures["rolling_restart"] = {
            "s": round(time.monotonic() - started, 1),
            "requests_ok": load.ok,
            "requests_retried_on_the_other_replica": load.retried,
            "requests_failed": len(load.failed),
            "drain_s_max_api": max(v for k, v in drains.items() if "-api" in k),
            "drain_s_max_worker": max(v for k, v in drains.items() if "-worker" in k),
        }
        assert load.failed == [], load.failed
        assert load.ok > 0
        # the reply chat-api was writing when it was told to stop: finished before it exited
        reply = await self.user.json("GET", f"/messages/{in_flight}")
        assert reply["status"] == "completed", reply
        return load.projects

    async def reply_being_written_by(self, name: str) -> str:
        """Post to the API process ``name`` (a chat API copy): it writes the reply itself."""
        service, _, replica = parse(name)
        conversation = await self.user.json("POST", "/conversations", 201, json={"title": "Restarted"})
        path = f"/api/v1/conversations/{conversation['id']}/messages"
        posted = await self.user.http.post(
            replica_url(self.cluster, service, replica, path), json={"content": "A long story, please"}
        )
        assert posted.status_code == 202, posted.text
        return str(posted.json()["reply"]["id"])

    async def restart(self, name: str) -> tuple[str, float]:
        """Restart one process as an operator would (SIGTERM via `cluster.py restart`); returns how
        long it took to drain and exit, once its successor is ready."""
        pid = int(self.cluster.processes()[name]["pid"])
        signalled = time.monotonic()
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, str(REPO / "deploy" / "local" / "cluster.py"), "restart", name],
            env=self.cluster.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        await eventually(self._gone(pid), 30, f"{name} (pid {pid}) exits")
        drained = round(time.monotonic() - signalled, 2)
        service, role, replica = parse(name)
        url = (replica_url if role == "api" else worker_url)(self.cluster, service, replica, "/health/ready")
        await eventually(self._ready(name, pid, url), 60, f"{name} is back and ready")
        return name, drained

    @staticmethod
    def _gone(pid: int) -> Any:
        async def check() -> bool:
            return dead(pid)

        return check

    def _ready(self, name: str, old_pid: int, url: str) -> Any:
        async def check() -> bool:
            current = self.cluster.processes().get(name)
            if current is None or int(current["pid"]) == old_pid:
                return False
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    return (await client.get(url)).status_code == 200
            except httpx.TransportError:
                return False

        return check

    # -- every event once, applied once ----------------------------------------------------------

    async def every_event_once(self, projects: set[str]) -> None:
        """Every project created has one ``orchestrator.project.created`` in the stream (duplicates
        of a re-published row are dropped by JetStream), and chat's consumers applied each once."""
        created = await eventually(self._created_events(projects), 60, "every project.created published")
        by_project: dict[str, int] = {}
        for project_id, _ in created:
            by_project[project_id] = by_project.get(project_id, 0) + 1
        assert set(by_project) == projects
        assert set(by_project.values()) == {1}, {k: v for k, v in by_project.items() if v != 1}
        event_ids = {event_id for _, event_id in created}
        applied = await eventually(self._applied_by_chat(event_ids, projects), 60, "chat applied every event")
        self.figures["events_published_once"] = len(created)
        self.figures["events_applied_once_by_chat"] = applied

    def _created_events(self, projects: set[str]) -> Any:
        async def check() -> list[tuple[str, str]] | None:
            nc = await connect_nats(self.cluster.nats_url, name="replica-test", wait=10)
            try:
                js = nc.jetstream()
                info = await js.stream_info("ORCHESTRATOR")
                found = []
                for seq in range(info.state.first_seq, info.state.last_seq + 1):
                    msg = await js.get_msg("ORCHESTRATOR", seq)
                    if msg.subject == "orchestrator.project.created":
                        project_id = json.loads(msg.data)["project_id"]
                        if project_id in projects:
                            assert msg.headers is not None
                            found.append((project_id, msg.headers["ce-id"]))
            finally:
                await nc.close()
            return found if {p for p, _ in found} == projects else None

        return check

    def _applied_by_chat(self, event_ids: set[str], projects: set[str]) -> Any:
        async def check() -> int | None:
            conn = await asyncpg.connect(self.cluster.role_url("chat"))
            try:
                inbox = await conn.fetch(
                    "SELECT event_id::text AS id FROM inbox WHERE consumer = 'chat.ownership'"
                    " AND event_id::text = ANY($1::text[])",
                    list(event_ids),
                )
                replicas = await conn.fetchval(
                    "SELECT count(*) FROM project_replicas WHERE id::text = ANY($1::text[])",
                    list(projects),
                )
            finally:
                await conn.close()
            ids = [row["id"] for row in inbox]
            assert len(ids) == len(set(ids))  # the inbox's key: an event is recorded, and applied, once
            return len(ids) if set(ids) == event_ids and replicas == len(projects) else None

        return check


def parse(name: str) -> tuple[str, str, int]:
    """``chat-api-2`` → (chat, api, 2); ``chat-worker`` → (chat, worker, 1)."""
    parts = name.split("-")
    return parts[0], parts[1], int(parts[2]) if len(parts) > 2 else 1
