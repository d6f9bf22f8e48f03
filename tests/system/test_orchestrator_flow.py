"""The orchestrator's whole flow on real processes, with the offline model (the default: no key,
no network): register → project → interview (3 answers, completes) → prompt v1 → edit v2 →
diff → tasks generated with dependencies → next task → moves through the board, a stale
If-Match refused → commit message generated and validated → commit recorded → changelog.

A client follows the project's live board (SSE) from the start and must see every task and
prompt change; a chat session appears in the orchestrator's projection from an event chat
publishes (written to chat's outbox as chat's own use cases will, and relayed by chat's
worker). Runs on a private cluster as ``make up`` starts it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime
from uuid import UUID

import httpx

from shared.contracts.chat import ConversationCreated
from shared.db import create_engine
from shared.kernel.ids import new_id
from shared.messaging.outbox import OutboxWriter

from .conftest import PrivateCluster, log_in, register

PASSWORD = "orchestrator flow passphrase"
SHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"


class BoardFollower(threading.Thread):
    """Reads the project's live board until stopped: (event name, data) of every message."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.events: list[tuple[str, dict[str, object]]] = []
        self.ready = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            self._follow()
        except httpx.HTTPError:
            if not self.stop.is_set():  # the cluster going down after the test is no failure
                raise

    def _follow(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        with httpx.stream("GET", self.url, headers=headers, timeout=httpx.Timeout(5, read=60)) as answer:
            assert answer.status_code == 200, answer.read()
            name = "message"
            for line in answer.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith("event:"):
                    name = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    if name == "ready":
                        self.ready.set()
                    else:
                        self.events.append((name, json.loads(line.removeprefix("data:"))))
                elif not line:
                    name = "message"

    def subjects_about(self, key: str, value: str) -> list[str]:
        return [name for name, data in self.events if str(data.get(key)) == value]


class Orchestrator:
    def __init__(self, cluster: PrivateCluster, token: str) -> None:
        self.cluster = cluster
        self.http = httpx.Client(
            base_url=cluster.url("orchestrator"), headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def call(self, method: str, path: str, expect: int = 200, **kwargs: object) -> httpx.Response:
        answer = self.http.request(method, f"/api/v1{path}", **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer

    def sse(self, path: str) -> list[tuple[str, str]]:
        """The (event, data) messages of a finite text/event-stream answer."""
        answer = self.call("POST", path)
        assert answer.headers["content-type"].startswith("text/event-stream")
        messages, name = [], "message"
        for line in answer.text.splitlines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                messages.append((name, line.removeprefix("data:").strip()))
            elif not line:
                name = "message"
        return messages


def eventually(check, within_s: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within_s
    while not (result := check()):
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.1)
    return result


async def publish_as_chat(cluster: PrivateCluster, event: ConversationCreated) -> None:
    """Commit ``event`` to chat's outbox as chat's own role: chat's relay publishes it."""
    engine = create_engine(cluster.role_url("chat"), schema="chat", application_name="orchestrator-flow")
    try:
        async with engine.begin() as conn:
            await OutboxWriter("/aiorch/chat").add(conn, [event])
    finally:
        await engine.dispose()


def test_the_whole_orchestrator_flow_with_the_offline_model(cluster: PrivateCluster) -> None:
    up = cluster.make("up", timeout=180)
    assert up.returncode == 0, up.stdout + up.stderr
    assert register(cluster, "ada@example.org", PASSWORD).status_code == 202
    token = log_in(cluster, "ada@example.org", PASSWORD).json()["access_token"]
    me = httpx.get(cluster.url("identity", "/api/v1/users/me"), headers={"Authorization": f"Bearer {token}"})
    user_id = UUID(me.json()["id"])
    api = Orchestrator(cluster, token)

    project = api.call("POST", "/projects", 201, json={"name": "Mug shop", "description": "Sell mugs"}).json()
    pid = project["id"]
    board = BoardFollower(cluster.url("orchestrator", f"/api/v1/projects/{pid}/events"), token)
    board.start()
    assert board.ready.wait(10), "the live board never said ready"

    # the interview: a streamed question, an answer, three times; the third completes it
    interview = api.call(
        "POST", f"/projects/{pid}/interviews", 201, json={"topic": "an online mug shop"}
    ).json()
    answers = ["Makers selling handmade mugs.", "Ten sales in the first month.", "It must work on a phone."]
    for reply in answers:
        question = api.sse(f"/interviews/{interview['id']}/questions")
        chunks = [data for name, data in question if name == "chunk"]
        assert len(chunks) > 1, question  # streamed, not sent whole
        assert question[-1][0] == "done", question
        answered = api.call("POST", f"/interviews/{interview['id']}/answers", json={"content": reply}).json()
    assert answered["completed"] is True
    assert answered["interview"]["status"] == "completed"

    # prompt v1 from the interview, v2 by an edit, a stale edit refused, the diff
    v1 = api.call(
        "POST", f"/projects/{pid}/prompts/generate", 201, json={"interview_id": interview["id"]}
    ).json()
    v2 = api.call(
        "POST",
        f"/prompts/{v1['id']}/versions",
        201,
        json={"content": v1["content"] + "\n- Gift wrapping at checkout.\n"},
        headers={"If-Match": '"1"'},
    ).json()
    api.call(
        "POST", f"/prompts/{v1['id']}/versions", 412, json={"content": "stale"}, headers={"If-Match": '"1"'}
    )
    diff = api.call("GET", f"/prompts/{v1['id']}/diff", params={"from": 1, "to": 2}).json()
    assert v2["version"] == 2
    assert "+- Gift wrapping at checkout." in diff["diff"]

    # the board: tasks planned from v2, with dependencies
    planned = api.call(
        "POST",
        f"/projects/{pid}/tasks/generate",
        201,
        json={"prompt_id": v2["id"], "num_tasks": 5, "mode": "replace"},
    ).json()["tasks"]
    assert len(planned) >= 2
    assert any(task["dependencies"] for task in planned), planned
    ids = {task["id"] for task in planned}
    assert all(set(task["dependencies"]) <= ids for task in planned)

    # work the next ready task through the board; a client holding an old ETag is refused
    moved = []
    for _ in range(2):
        task = api.call("GET", f"/projects/{pid}/next-task").json()
        assert not task["dependencies"] or all(
            api.call("GET", f"/tasks/{dep}").json()["status"] == "done" for dep in task["dependencies"]
        )
        etag = api.call("GET", f"/tasks/{task['id']}").headers["etag"]
        for status in ("in_progress", "review", "done"):
            answer = api.call(
                "POST", f"/tasks/{task['id']}/move", json={"status": status}, headers={"If-Match": etag}
            )
            api.call(
                "POST", f"/tasks/{task['id']}/move", 412, json={"status": "todo"}, headers={"If-Match": etag}
            )
            etag = answer.headers["etag"]
        moved.append(task)

    # a commit message for the first task, valid under config-conventional, recorded; the changelog
    generated = api.call(
        "POST", "/commits/generate", json={"task_id": moved[0]["id"], "diff_summary": "shop/cart.py: +40 -3"}
    ).json()
    validated = api.call("POST", "/commits/validate", json={"message": generated["message"]}).json()
    assert validated["valid"] is True, validated
    api.call(
        "POST",
        f"/projects/{pid}/commits",
        201,
        json={"sha": SHA, "message": generated["message"], "task_id": moved[0]["id"]},
    )
    changelog = api.call("GET", f"/projects/{pid}/changelog").json()
    assert SHA[:7] in json.dumps(changelog)

    # the live board saw every change: each planned task created, each move, both prompt versions
    def saw_everything() -> bool:
        for task in planned:
            if not board.subjects_about("task_id", task["id"]):
                return False
        moves = [
            name
            for task in moved
            for name in board.subjects_about("task_id", task["id"])
            if name.endswith("moved")
        ]
        prompts = [name for name, data in board.events if name.startswith("orchestrator.prompt.")]
        return len(moves) >= 6 and len(prompts) >= 2

    eventually(saw_everything, within_s=10)

    # chat publishes a conversation linked to the task: the orchestrator's projection shows it
    conversation = ConversationCreated(
        event_id=new_id(),
        occurred_at=datetime.now(UTC),
        conversation_id=new_id(),
        owner_id=user_id,
        title="How do I build the cart?",
        project_id=UUID(pid),
        task_id=UUID(moved[0]["id"]),
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )
    asyncio.run(publish_as_chat(cluster, conversation))
    sessions = eventually(
        lambda: api.call("GET", f"/tasks/{moved[0]['id']}/chat-sessions").json()["items"], within_s=20
    )
    assert sessions[0]["title"] == "How do I build the cart?"
    assert api.call("GET", f"/projects/{pid}/chat-sessions").json()["items"][0]["id"] == sessions[0]["id"]

    board.stop.set()
    counts = api.call("GET", f"/projects/{pid}").json()
    print(
        f"\norchestrator flow: {len(planned)} tasks planned, {len(board.events)} live board events, "
        f"project counts {counts.get('counts', counts)}"
    )
