"""The live board (``GET /projects/{id}/events``) served by uvicorn, fed by the real outbox relay over
NATS: changes arrive, only the project's, and a reconnect with Last-Event-ID gets exactly the missed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn

from orchestrator.entrypoints.http import board_events

WAIT_S = 10.0


@dataclass
class Received:
    id: int | None
    event: str
    data: dict
    at: float = field(default_factory=time.perf_counter)


@pytest.fixture
async def relay(service_root, api_settings) -> AsyncIterator[None]:
    """The outbox relay as the worker runs it: committed events reach NATS."""
    async with service_root.open_worker(api_settings) as worker:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.relay.run(stop))
        yield
        stop.set()
        await task


@pytest.fixture
async def server(service_root, api_settings) -> AsyncIterator[str]:
    """The app on a loopback port (the test client buffers whole responses; a stream needs a server)."""
    config = uvicorn.Config(
        service_root.create_app(api_settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    served = uvicorn.Server(config)
    task = asyncio.create_task(served.serve())
    while not served.started:
        await asyncio.sleep(0.01)
    port = served.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    await task


class Stream:
    """One SSE connection, read in the background into a queue of events."""

    def __init__(self, base: str, path: str, headers: dict[str, str]) -> None:
        self.received: asyncio.Queue[Received] = asyncio.Queue()
        self.comments = 0
        self._task: asyncio.Task[None] | None = None
        self._args = (base, path, headers)
        self.status: int | None = None
        self.ended = asyncio.Event()
        """Set when the server ended the stream."""

    async def __aenter__(self) -> Stream:
        opened = asyncio.Event()
        self._task = asyncio.create_task(self._read(opened))
        await asyncio.wait_for(opened.wait(), WAIT_S)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _read(self, opened: asyncio.Event) -> None:
        base, path, headers = self._args
        # no read timeout: an idle stream waits (the test's own waits bound it)
        timeout = httpx.Timeout(5.0, read=None)
        async with (
            httpx.AsyncClient(base_url=base, timeout=timeout) as client,
            client.stream("GET", path, headers=headers) as response,
        ):
            self.status = response.status_code
            opened.set()
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    self.comments += 1
                elif line == "":
                    if "data" in fields:
                        await self.received.put(
                            Received(
                                id=int(fields["id"]) if "id" in fields else None,
                                event=fields.get("event", "message"),
                                data=json.loads(fields["data"]),
                            )
                        )
                    fields = {}
                else:
                    name, _, value = line.partition(": ")
                    fields[name] = value
        self.ended.set()

    async def next(self) -> Received:
        return await asyncio.wait_for(self.received.get(), WAIT_S)

    async def quiet(self, seconds: float) -> bool:
        """Nothing arrives for ``seconds``."""
        try:
            await asyncio.wait_for(self.received.get(), seconds)
        except TimeoutError:
            return True
        return False


async def new_project(api, who, name: str = "Shop") -> str:
    answer = await api.post("/api/v1/projects", json={"name": name}, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def new_task(api, who, project_id: str, title: str) -> tuple[str, float, float]:
    """The task's id, when the request was sent and when its answer (after the commit) came back."""
    sent = time.perf_counter()
    answer = await api.post(
        f"/api/v1/projects/{project_id}/tasks", json={"title": title}, headers=who.headers
    )
    answered = time.perf_counter()
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"]), sent, answered


async def test_the_stream_pushes_the_projects_changes_and_measures_the_latency(api, caller, relay, server):
    alice, bob = caller(), caller()
    project_id = await new_project(api, alice)
    bobs = await new_project(api, bob, "Bob's")
    async with Stream(server, f"/api/v1/projects/{project_id}/events", alice.headers) as stream:
        ready = await stream.next()
        assert ready.event == "ready"
        after_answer, after_request = [], []
        for i in range(20):
            await new_task(api, bob, bobs, f"not alice's {i}")
            task_id, sent, answered = await new_task(api, alice, project_id, f"task {i}")
            event = await stream.next()
            after_answer.append((event.at - answered) * 1000)
            after_request.append((event.at - sent) * 1000)
            assert (event.event, event.data["task_id"], event.data["project_id"]) == (
                "orchestrator.task.created",
                task_id,
                project_id,
            )
            assert event.id is not None
            assert event.id > (ready.id or 0)
        recorded = await api.post(
            f"/api/v1/projects/{project_id}/commits",
            json={"sha": "abcdef1", "message": "feat: add tasks"},
            headers=alice.headers,
        )
        assert recorded.status_code == 201
        assert (await stream.next()).event == "orchestrator.commit.recorded"
        assert await stream.quiet(0.3)  # bob's changes never came
    # The commit lies between the request and its answer: the latency is between the two figures.
    for what, figures in (("after the answer", after_answer), ("after the request", after_request)):
        figures.sort()
        print(
            f"\nlive board: SSE event {what} creating the task, over {len(figures)} changes: "
            f"min {figures[0]:.1f} ms, median {figures[len(figures) // 2]:.1f} ms, max {figures[-1]:.1f} ms"
        )


async def test_a_reconnect_with_last_event_id_gets_exactly_the_missed_events(api, caller, relay, server):
    alice = caller()
    project_id = await new_project(api, alice)
    path = f"/api/v1/projects/{project_id}/events"
    async with Stream(server, path, alice.headers) as stream:
        await stream.next()  # ready
        await new_task(api, alice, project_id, "seen")
        seen = await stream.next()
    missed = [(await new_task(api, alice, project_id, f"missed {i}"))[0] for i in range(3)]
    await asyncio.sleep(0.3)  # published meanwhile, with nobody listening
    async with Stream(server, path, {**alice.headers, "Last-Event-ID": str(seen.id)}) as resumed:
        assert (await resumed.next()).event == "ready"
        got = [await resumed.next() for _ in missed]
        assert [e.data["task_id"] for e in got] == missed
        assert all((e.id or 0) > (seen.id or 0) for e in got)
        assert await resumed.quiet(0.3)


async def test_another_users_project_stream_is_not_found(caller, server):
    alice, bob = caller(), caller()
    async with httpx.AsyncClient(base_url=server) as client:
        created = await client.post("/api/v1/projects", json={"name": "Mine"}, headers=alice.headers)
        project_id = created.json()["id"]
        refused = await client.get(f"/api/v1/projects/{project_id}/events", headers=bob.headers)
        bad_id = await client.get(
            f"/api/v1/projects/{project_id}/events", headers={**alice.headers, "Last-Event-ID": "x"}
        )
    assert refused.status_code == 404
    assert bad_id.status_code == 400


async def test_an_idle_stream_gets_keep_alive_comments_and_ends_with_its_project(
    api, caller, relay, server, monkeypatch
):
    monkeypatch.setattr(board_events, "KEEP_ALIVE_S", 0.1)
    alice = caller()
    project_id = await new_project(api, alice)
    async with Stream(server, f"/api/v1/projects/{project_id}/events", alice.headers) as stream:
        ready = await stream.next()
        assert ready.data == {"project_id": project_id}
        await asyncio.sleep(0.35)
        assert stream.comments >= 2
        assert (await api.delete(f"/api/v1/projects/{project_id}", headers=alice.headers)).status_code == 204
        assert (await stream.next()).event == "orchestrator.project.deleted"
        await asyncio.wait_for(stream.ended.wait(), WAIT_S)
