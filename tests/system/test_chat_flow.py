"""chat's whole flow on real processes (issue 9), with the offline model streaming at a pace a
reply can be interrupted at.

Two users, A and B, registered on identity. A links a conversation to one of A's orchestrator
projects (chat learns the project from orchestrator's events), chats over the WebSocket, drops
it mid-reply and resumes with no gap or duplicate, resumes a server-sent-event stream with
`Last-Event-ID`, stops a reply, regenerates one, edits a message into a new branch, gets an
automatic title, uploads a PNG, attaches and downloads it, and finds the conversation by search.
An admin lowers A's message budget in orchestrator's settings: A's next message is refused with
429 and nothing is stored. orchestrator shows the conversation as a chat session of the project.
At every step B gets a 404 for each of A's resources and finds nothing of A's. Finally A erases
the account: chat publishes its erasure receipt, holds nothing of A (their attachment's file
goes with the next blob sweep), and B's conversation is untouched.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from nats.js.errors import NotFoundError
from websockets.exceptions import ConnectionClosed

from shared.messaging.connection import connect_nats

from .chat_client import (
    PASSWORD,
    Frame,
    chunk_seqs,
    eventually,
    receive,
    sign_in,
    sign_up,
    socket,
    socket_frames,
    sse_frames,
    text_of,
    tiny_png,
)
from .conftest import PrivateCluster

ADMIN = ("chat-admin@example.org", "chat flow admin passphrase")
PACE_MS = 40  # the offline reply is ~45 tokens: ~2 s to interrupt it in
BLOB_SWEEP_S = 2
WORD = "quokka"  # in A's messages only: what search must find for A and never for B


def test_the_whole_chat_flow_on_real_processes(cluster: PrivateCluster) -> None:
    cluster.env |= {
        "CHAT_OFFLINE_PACE_MS": str(PACE_MS),
        "CHAT_BLOB_SWEEP_EVERY_S": str(BLOB_SWEEP_S),
        "AIORCH_ADMIN_EMAIL": ADMIN[0],
        "AIORCH_ADMIN_PASSWORD": ADMIN[1],
    }
    started = time.monotonic()
    up = cluster.make("up", timeout=180)
    assert up.returncode == 0, up.stdout + up.stderr
    figures = asyncio.run(Flow(cluster).run())
    figures["up_s"] = round(time.monotonic() - started - figures["flow_s"], 1)
    print(f"\nchat flow: {json.dumps(figures)}")


class Flow:
    def __init__(self, cluster: PrivateCluster) -> None:
        self.cluster = cluster
        self.figures: dict[str, Any] = {}
        # what B must never see: A's conversation, messages, replies and attachments
        self.conversation = ""
        self.messages: list[str] = []
        self.replies: list[str] = []
        self.attachments: list[str] = []

    async def run(self) -> dict[str, Any]:
        started = time.monotonic()
        self.a = await sign_up(self.cluster, "ada@example.org")
        self.b = await sign_up(self.cluster, "bob@example.org")
        self.admin = await sign_in(self.cluster, *ADMIN)
        try:
            await self.linked_conversation()
            await self.bs_own_conversation()
            await self.websocket_dropped_and_resumed()
            await self.sse_resumed_with_last_event_id()
            await self.stopped_then_regenerated()
            await self.edited_into_a_new_branch()
            await self.auto_title()
            await self.png_attached_and_downloaded()
            await self.search()
            await self.budget_refuses_the_next_message()
            await self.chat_session_in_orchestrator()
            await self.erasure()
        finally:
            for user in (self.a, self.b, self.admin):
                await user.close()
        self.figures["flow_s"] = round(time.monotonic() - started, 1)
        return self.figures

    # -- the steps ------------------------------------------------------------------------------

    async def linked_conversation(self) -> None:
        """A's project is usable in chat once chat's ownership replica knows it (422 until then);
        B can never link it."""
        project = await self.a.call(
            "POST", "orchestrator", "/projects", 201, json={"name": "Quokka mugs", "description": "Mugs"}
        )
        self.project_id = project.json()["id"]
        created_at = time.monotonic()

        async def create() -> dict[str, Any] | None:
            answer = await self.a.chat("POST", "/conversations", None, json={"project_id": self.project_id})
            if answer.status_code == 422:
                assert answer.json()["status"] == 422
                return None
            assert answer.status_code == 201, answer.text
            return dict(answer.json())

        conversation = await eventually(create, 20, "chat's ownership replica knows A's project")
        self.figures["project_known_to_chat_s"] = round(time.monotonic() - created_at, 2)
        assert conversation["project_id"] == self.project_id
        assert conversation["title_source"] == "none"
        self.conversation = conversation["id"]
        refused = await self.b.chat("POST", "/conversations", 422, json={"project_id": self.project_id})
        assert "project_id" in refused.text
        await self.b_sees_nothing()

    async def bs_own_conversation(self) -> None:
        """B's conversation and reply, which A's erasure must leave alone."""
        conversation = await self.b.json("POST", "/conversations", 201, json={"title": "Bob's wombats"})
        self.b_conversation = conversation["id"]
        started = await self.b.json(
            "POST", f"/conversations/{self.b_conversation}/messages", 202, json={"content": "About wombats"}
        )
        frames = await sse_frames(self.b, started["stream_url"])
        assert frames[-1]["type"] == "done", frames
        self.b_reply = started["reply"]["id"]

    async def websocket_dropped_and_resumed(self) -> None:
        """The socket is dropped mid-reply; a new one subscribes after the last seq it held: the
        frames join with no gap and no duplicate, and their text is the stored reply."""
        async with socket(self.cluster, self.conversation, self.a.token) as ws:
            assert ws.subprotocol == "aiorch.v1"
            await ws.send(json.dumps({"type": "message", "content": f"Tell me how {WORD} mugs should ship"}))
            accepted = await receive(ws)
            assert accepted["type"] == "accepted", accepted
            reply = accepted["message_id"]
            before = await socket_frames(ws, reply, chunks=4)
            ws.transport.abort()  # dropped, not closed: the server gets no close frame
        assert [f["type"] for f in before] == ["chunk"] * 4, before
        self.messages.append(accepted["user_message_id"])
        self.replies.append(reply)
        await self.b_sees_nothing()

        async with socket(self.cluster, self.conversation, None) as ws:  # token in the first frame
            await ws.send(json.dumps({"type": "auth", "token": self.a.token}))
            await ws.send(json.dumps({"type": "subscribe", "message_id": reply, "after": before[-1]["seq"]}))
            after = await socket_frames(ws, reply)
        frames = before + after
        seqs = chunk_seqs(frames)
        assert seqs == list(range(1, len(seqs) + 1)), seqs
        assert not any(f.get("whole") for f in frames), frames
        assert (frames[-1]["type"], frames[-1]["status"]) == ("done", "completed"), frames[-1]
        assert frames[-1]["seq"] == seqs[-1] + 1
        stored = await self.a.json("GET", f"/messages/{reply}")
        assert stored["status"] == "completed"
        assert stored["content"] == text_of(frames)
        self.figures["ws_chunks_before_drop_after"] = [len(chunk_seqs(before)), len(chunk_seqs(after))]

    async def sse_resumed_with_last_event_id(self) -> None:
        """A reply over SSE: three chunks, the connection dropped, then `Last-Event-ID: 3` gets
        exactly the frames after 3."""
        started = await self.a.json(
            "POST", f"/conversations/{self.conversation}/messages", 202, json={"content": "And the lids?"}
        )
        reply = started["reply"]["id"]
        assert started["stream_url"] == f"/api/v1/messages/{reply}/stream"
        assert started["reply"]["status"] in ("pending", "streaming")
        self.messages.append(started["user_message_id"])
        self.replies.append(reply)
        first = await sse_frames(self.a, started["stream_url"], chunks=3)
        assert chunk_seqs(first) == [1, 2, 3], first
        await self.b_sees_nothing()
        rest = await sse_frames(self.a, started["stream_url"], last_event_id=3)
        seqs = chunk_seqs(rest)
        assert seqs == list(range(4, 4 + len(seqs))), seqs
        assert not any(f.get("whole") for f in rest), rest
        assert rest[-1]["type"] == "done", rest[-1]
        stored = await self.a.json("GET", f"/messages/{reply}")
        assert stored["content"] == text_of(first + rest)
        # a finished reply, followed again from its last frame: only its end
        assert await sse_frames(self.a, started["stream_url"], last_event_id=rest[-1]["seq"] - 1) == [
            rest[-1]
        ]
        self.sse_reply = reply
        self.sse_message = started["user_message_id"]

    async def stopped_then_regenerated(self) -> None:
        """Stopped mid-reply: `stopped`, its partial content kept; regenerated: a completed sibling."""
        started = await self.a.json(
            "POST",
            f"/conversations/{self.conversation}/messages",
            202,
            json={"content": "Write me a very long essay about ceramics glazes"},
        )
        reply = started["reply"]["id"]
        self.messages.append(started["user_message_id"])
        self.replies.append(reply)
        first = await sse_frames(self.a, started["stream_url"], chunks=2)
        stopped = await self.a.json("POST", f"/messages/{reply}/stop")
        assert stopped["status"] == "stopped", stopped
        assert stopped["content"], "the partial content is kept"
        assert stopped["content"].startswith(text_of(first))
        frames = await sse_frames(self.a, started["stream_url"])
        assert (frames[-1]["type"], frames[-1]["status"]) == ("done", "stopped"), frames[-1]
        await asyncio.sleep(3 * PACE_MS / 1000)
        stored = await self.a.json("GET", f"/messages/{reply}")
        assert (stored["status"], stored["content"]) == ("stopped", stopped["content"])  # not written on
        await self.b_sees_nothing()

        again = await self.a.json("POST", f"/messages/{reply}/regenerate", 202)
        assert again["user_message_id"] is None
        sibling = again["reply"]["id"]
        self.replies.append(sibling)
        frames = await sse_frames(self.a, again["stream_url"])
        assert (frames[-1]["type"], frames[-1]["status"]) == ("done", "completed"), frames[-1]
        regenerated = await self.a.json("GET", f"/messages/{sibling}")
        assert regenerated["status"] == "completed"
        assert regenerated["content"] == text_of(frames)
        assert regenerated["parent_id"] == started["user_message_id"]
        assert regenerated["sibling_ids"] == [reply, sibling]
        self.figures["stopped_chars_of_completed"] = [len(stopped["content"]), len(regenerated["content"])]

    async def edited_into_a_new_branch(self) -> None:
        """Editing the second message: a new branch beside it, selected; the old one a sibling."""
        edited = await self.a.json(
            "POST", f"/messages/{self.sse_message}/edit", 202, json={"content": "And the handles?"}
        )
        edit, reply = edited["user_message_id"], edited["reply"]["id"]
        self.messages.append(edit)
        self.replies.append(reply)
        frames = await sse_frames(self.a, edited["stream_url"])
        assert frames[-1]["type"] == "done", frames[-1]
        branch = await self.a.json("GET", f"/conversations/{self.conversation}/messages")
        ids = [m["id"] for m in branch["items"]]
        assert ids == [self.messages[0], self.replies[0], edit, reply], branch
        assert branch["selected_leaf_id"] == reply
        assert branch["items"][2]["sibling_ids"] == [self.sse_message, edit]
        assert branch["items"][2]["sibling_index"] == 1
        old = await self.a.json(
            "GET", f"/conversations/{self.conversation}/messages", params={"leaf_id": self.sse_message}
        )
        assert self.sse_message in [m["id"] for m in old["items"]]
        assert (await self.a.json("GET", f"/messages/{self.sse_message}"))["content"] == "And the lids?"
        await self.b_sees_nothing()

    async def auto_title(self) -> None:
        async def titled() -> dict[str, Any] | None:
            conversation = await self.a.json("GET", f"/conversations/{self.conversation}")
            return dict(conversation) if conversation["title_source"] == "auto" else None

        conversation = await eventually(titled, 20, "the model titles the conversation")
        assert 0 < len(conversation["title"]) <= 60, conversation["title"]
        self.title = conversation["title"]
        self.figures["auto_title"] = self.title

    async def png_attached_and_downloaded(self) -> None:
        png = tiny_png()
        uploaded = await self.a.json(
            "POST", "/attachments", 201, files={"file": ("quokka.png", png, "application/octet-stream")}
        )
        assert (uploaded["kind"], uploaded["media_type"]) == ("image", "image/png"), uploaded
        assert uploaded["size_bytes"] == len(png)
        assert uploaded["message_id"] is None
        self.attachments.append(uploaded["id"])
        self.blob_dir = self.cluster.state_dir / "chat-blobs" / str(self.a.id)
        self.blobs = blob_files(self.blob_dir)
        assert len(self.blobs) == 1, f"A's blob directory holds {self.blobs}"
        assert self.blobs[0].read_bytes() == png

        started = await self.a.json(
            "POST",
            f"/conversations/{self.conversation}/messages",
            202,
            json={"content": "What is in this picture?", "attachment_ids": [uploaded["id"]]},
        )
        self.messages.append(started["user_message_id"])
        self.replies.append(started["reply"]["id"])
        frames = await sse_frames(self.a, started["stream_url"])
        assert frames[-1]["type"] == "done", frames[-1]
        attachment = await self.a.json("GET", f"/attachments/{uploaded['id']}")
        assert attachment["message_id"] == started["user_message_id"]

        download = await self.a.chat("GET", f"/attachments/{uploaded['id']}/content")
        assert download.content == png
        assert download.headers["content-type"] == "image/png"
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert "quokka.png" in download.headers["content-disposition"]
        await self.b_sees_nothing()

    async def search(self) -> None:
        found = await self.a.json("GET", "/search", params={"q": WORD})
        assert found["items"], found
        assert {hit["conversation_id"] for hit in found["items"]} == {self.conversation}, found
        self.figures["search_hits_for_a"] = len(found["items"])
        await self.b_sees_nothing()

    async def budget_refuses_the_next_message(self) -> None:
        """An admin sets the message budget to what A spent: A's next message is a 429 with
        `Retry-After`, and nothing of it is stored or counted."""
        usage = await self.a.json("GET", "/usage")
        spent = usage["messages"]["used"]
        assert spent >= 5, usage
        changed_at = time.monotonic()
        await self.admin.call(
            "PUT", "orchestrator", "/settings", json={"values": {"chat.budget.messages_per_window": spent}}
        )

        async def obeyed() -> bool:
            return bool((await self.a.json("GET", "/usage"))["messages"]["limit"] == spent)

        await eventually(obeyed, 20, "chat obeys the new chat.budget.messages_per_window")
        self.figures["setting_reached_chat_s"] = round(time.monotonic() - changed_at, 2)
        before = await self.a.json("GET", f"/conversations/{self.conversation}")
        refused = await self.a.chat(
            "POST",
            f"/conversations/{self.conversation}/messages",
            429,
            json={"content": "One more about platypus glaze"},
        )
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert int(refused.headers["retry-after"]) > 0
        assert refused.json()["status"] == 429
        after = await self.a.json("GET", f"/conversations/{self.conversation}")
        assert after["messages_count"] == before["messages_count"]
        assert after["selected_leaf_id"] == before["selected_leaf_id"]
        assert (await self.a.json("GET", "/usage"))["messages"]["used"] == spent
        assert (await self.a.json("GET", "/search", params={"q": "platypus"}))["items"] == []
        async with socket(self.cluster, self.conversation, self.a.token) as ws:  # the socket obeys too
            await ws.send(json.dumps({"type": "message", "content": "platypus over the socket"}))
            refusal = await receive(ws)
            assert (refusal["type"], refusal["problem"]["status"]) == ("error", 429), refusal
        assert (await self.a.json("GET", f"/conversations/{self.conversation}"))["messages_count"] == (
            before["messages_count"]
        )
        self.figures["messages_before_429"] = spent

    async def chat_session_in_orchestrator(self) -> None:
        """orchestrator's projection of chat's events: the conversation under A's project, titled."""

        async def listed() -> list[dict[str, Any]] | None:
            answer = await self.a.call("GET", "orchestrator", f"/projects/{self.project_id}/chat-sessions")
            items: list[dict[str, Any]] = answer.json()["items"]
            return items if items and items[0]["title"] == self.title else None

        sessions = await eventually(listed, 20, "the chat session, auto-titled, in orchestrator")
        assert [s["id"] for s in sessions] == [self.conversation]
        assert sessions[0]["project_id"] == self.project_id
        b_view = await self.b.call("GET", "orchestrator", f"/projects/{self.project_id}/chat-sessions", None)
        assert b_view.status_code == 404, b_view.text

    async def erasure(self) -> None:
        """A erases the account: chat's receipt on NATS, nothing of A left in chat's tables, the
        attachment's file swept, B's conversation as it was."""
        b_before = await self.b.json("GET", f"/conversations/{self.b_conversation}/messages")
        await self.a.call("DELETE", "identity", "/users/me", 204, json={"password": PASSWORD})
        deleted_at = time.monotonic()

        receipt = await eventually(lambda: erasure_receipt(self.cluster, self.a.id), 30, "chat.user.erased")
        self.figures["erasure_receipt_s"] = round(time.monotonic() - deleted_at, 2)
        assert receipt["user_id"] == str(self.a.id)
        assert await rows_owned_by(self.cluster, self.a.id) == dict.fromkeys(OWNED_TABLES, 0)

        async def swept() -> bool:
            return not any(path.exists() for path in self.blobs)

        await eventually(swept, 5 * BLOB_SWEEP_S + 10, "A's attachment file removed by the blob sweep")
        self.figures["blob_swept_s"] = round(time.monotonic() - deleted_at, 2)

        assert (await self.a.chat("GET", f"/conversations/{self.conversation}", None)).status_code == 401
        await self.b_sees_nothing()
        assert await self.b.json("GET", f"/conversations/{self.b_conversation}/messages") == b_before
        assert (await self.b.json("GET", f"/messages/{self.b_reply}"))["status"] == "completed"
        assert (await self.b.json("GET", "/search", params={"q": "wombats"}))["items"]

    # -- B, at every step -------------------------------------------------------------------------

    async def b_sees_nothing(self) -> None:
        """Every one of A's resources is a 404 for B, over HTTP, SSE and the socket; B's lists and
        search hold nothing of A's."""
        b, refused = self.b, []
        conversation = self.conversation
        probes: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", f"/conversations/{conversation}", {}),
            ("PATCH", f"/conversations/{conversation}", {"json": {"title": "mine now"}}),
            ("GET", f"/conversations/{conversation}/messages", {}),
            ("POST", f"/conversations/{conversation}/messages", {"json": {"content": "hi"}}),
            ("DELETE", f"/conversations/{conversation}", {}),
        ]
        for message in self.messages:
            probes += [
                ("GET", f"/messages/{message}", {}),
                ("POST", f"/messages/{message}/edit", {"json": {"content": "mine"}}),
            ]
        for reply in self.replies:
            probes += [
                ("GET", f"/messages/{reply}", {}),
                ("GET", f"/messages/{reply}/stream", {}),
                ("POST", f"/messages/{reply}/stop", {}),
                ("POST", f"/messages/{reply}/regenerate", {}),
            ]
        for attachment in self.attachments:
            probes += [
                ("GET", f"/attachments/{attachment}", {}),
                ("GET", f"/attachments/{attachment}/content", {}),
                ("DELETE", f"/attachments/{attachment}", {}),
            ]
        for method, path, kwargs in probes:
            answer = await b.chat(method, path, None, **kwargs)
            if answer.status_code != 404 or WORD in answer.text:
                refused.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
        assert not refused, "B reached A's resources:\n" + "\n".join(refused)

        mine = await b.json("GET", "/conversations")
        assert conversation not in [c["id"] for c in mine["items"]]
        assert await b.json("GET", "/search", params={"q": WORD}) == {"items": [], "next_cursor": None}
        if conversation:
            async with socket(self.cluster, conversation, b.token) as ws:
                refusal = await receive(ws)
                assert (refusal["type"], refusal["problem"]["status"]) == ("error", 404), refusal
                with pytest.raises(ConnectionClosed) as closed:
                    await receive(ws, 5)
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 1008
        if self.replies and getattr(self, "b_conversation", None):
            async with socket(self.cluster, self.b_conversation, b.token) as ws:  # B's own socket
                await ws.send(json.dumps({"type": "subscribe", "message_id": self.replies[-1], "after": 0}))
                frame: Frame = await receive(ws)
                assert (frame["type"], frame["problem"]["status"]) == ("error", 404), frame


# -- chat's side of the erasure, seen from outside ----------------------------------------------

OWNED_TABLES = ("conversations", "messages", "attachments", "usage_windows")


async def erasure_receipt(cluster: PrivateCluster, user_id: UUID) -> dict[str, Any] | None:
    """chat's ``chat.user.erased`` for ``user_id`` in its JetStream stream, if published."""
    nc = await connect_nats(cluster.nats_url, name="chat-flow", wait=10)
    try:
        js = nc.jetstream()
        try:
            msg = await js.get_last_msg("CHAT", "chat.user.erased")
        except NotFoundError:  # none yet (or no stream yet)
            return None
        body: dict[str, Any] = json.loads(msg.data or b"{}")
        headers = msg.headers or {}
        assert headers.get("ce-type") == "aiorch.chat.user.erased.v1", headers
        return body if body.get("user_id") == str(user_id) else None
    finally:
        await nc.close()


async def rows_owned_by(cluster: PrivateCluster, user_id: UUID) -> dict[str, int]:
    """How many rows of ``user_id``'s each chat table holds, read as chat's own role."""
    conn = await asyncpg.connect(cluster.role_url("chat"))
    try:
        return {
            table: int(await conn.fetchval(f"SELECT count(*) FROM chat.{table} WHERE owner_id = $1", user_id))
            for table in OWNED_TABLES
        }
    finally:
        await conn.close()


def blob_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
