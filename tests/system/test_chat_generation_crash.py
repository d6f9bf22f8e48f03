"""Issue 9's acceptance: chat's API process is killed mid-generation; the reply ends `failed` with
its partial content, a follower is told with an `error` frame, and regenerating works.

On a private cluster as `make up` starts it, the offline model streaming slowly. A reply is
followed over the WebSocket; once a checkpoint has stored some of it, chat's only API process is
SIGKILLed (no shutdown runs: nothing marks the reply). The supervisor starts the process again;
its sweep finds the reply's lapsed lease (10 s, renewed by the checkpoint every second) and fails
it, keeping all the text it streamed (the checkpoint's, then the chunks the reply channel kept).
The follower, reconnected and subscribed after the last seq it held, gets the `error` frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed

from .chat_client import (
    Frame,
    User,
    chunk_seqs,
    eventually,
    receive,
    sign_up,
    socket,
    socket_frames,
    sse_frames,
    text_of,
)
from .conftest import PrivateCluster, dead

PACE_MS = 100  # the offline reply (~45 tokens) takes ~4.5 s: time to checkpoint some and kill
FAILED_WITHIN_S = 30  # lease 10 s + the restart + a sweep every 5 s: ~15 s expected
LOST = "generation lost: the process writing it stopped"


def test_a_reply_whose_api_process_is_killed_ends_failed_with_its_partial_content(
    cluster: PrivateCluster,
) -> None:
    cluster.env["CHAT_OFFLINE_PACE_MS"] = str(PACE_MS)
    up = cluster.make("up", timeout=180)
    assert up.returncode == 0, up.stdout + up.stderr
    figures = asyncio.run(crash_mid_reply(cluster))
    print(f"\nchat API killed mid-reply: {json.dumps(figures)}")


async def crash_mid_reply(cluster: PrivateCluster) -> dict[str, Any]:
    user = await sign_up(cluster, "crash@example.org")
    try:
        return await _scenario(cluster, user)
    finally:
        await user.close()


async def _scenario(cluster: PrivateCluster, user: User) -> dict[str, Any]:
    conversation = (await user.json("POST", "/conversations", 201, json={"title": "Kiln notes"}))["id"]
    figures: dict[str, Any] = {}

    async with socket(cluster, conversation, user.token) as ws:
        await ws.send(json.dumps({"type": "message", "content": "How hot should a stoneware kiln get?"}))
        accepted = await receive(ws)
        assert accepted["type"] == "accepted", accepted
        reply = accepted["message_id"]
        seen = await socket_frames(ws, reply, chunks=3)

        async def checkpointed() -> dict[str, Any] | None:
            message: dict[str, Any] = await user.json("GET", f"/messages/{reply}")
            assert message["status"] in ("pending", "streaming"), "the reply ended before the kill"
            return message if message["content"] else None

        before_kill = await eventually(checkpointed, 5, "a checkpoint stores some of the reply")
        pid = int(cluster.processes()["chat-api"]["pid"])
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        # the frames sent before the process died, then the socket drops
        with contextlib.suppress(ConnectionClosed, TimeoutError):
            while True:
                seen.append(await receive(ws, 10))
    assert [f["type"] for f in seen] == ["chunk"] * len(seen), seen
    seqs = chunk_seqs(seen)
    assert seqs == list(range(1, len(seqs) + 1)), seqs
    deadline = time.monotonic() + 30
    while not dead(pid):
        assert time.monotonic() < deadline, "chat's API process survived SIGKILL"
        await asyncio.sleep(0.02)

    async def back() -> bool:
        try:
            answer = await user.http.get(cluster.url("chat", "/health/ready"), timeout=2)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200 and int(cluster.processes()["chat-api"]["pid"]) != pid

    await eventually(back, 60, "the supervisor restarts chat's API")
    figures["api_back_s"] = round(time.monotonic() - killed_at, 1)

    # a follower comes back and subscribes after the last seq it held; meanwhile the reply is polled
    follower = asyncio.create_task(follow_after(cluster, user, conversation, reply, seqs[-1]))

    async def failed() -> dict[str, Any] | None:
        message: dict[str, Any] = await user.json("GET", f"/messages/{reply}")
        return message if message["status"] == "failed" else None

    message = await eventually(failed, FAILED_WITHIN_S, "the killed reply is failed by a sweep")
    figures["kill_to_failed_s"] = round(time.monotonic() - killed_at, 1)
    frames, error_at = await asyncio.wait_for(follower, 20)
    figures["kill_to_error_frame_s"] = round(error_at - killed_at, 1)

    # failed with the content its last checkpoint stored: at least what was stored before the kill,
    # and a prefix of what streamed (the frames held before the kill and those missed, no gap)
    streamed = text_of(seen + frames)
    followed = chunk_seqs(seen + frames)
    assert followed == list(range(1, len(followed) + 1)), followed
    assert message["content"], "the partial content is kept"
    assert message["content"].startswith(before_kill["content"]), (message["content"], before_kill["content"])
    # all the text it streamed: the checkpoint's, then the chunks the channel kept beyond it
    assert streamed == message["content"], (streamed, message["content"])
    assert message["metadata"]["error"] == LOST, message["metadata"]
    assert message["finished_at"] is not None
    error = frames[-1]
    assert error["type"] == "error", frames
    assert error["message_id"] == reply
    assert error["problem"]["status"] == 502
    assert error["problem"]["detail"] == LOST
    assert [f["type"] for f in frames[:-1]] == ["chunk"] * (len(frames) - 1), frames
    # a subscriber arriving now gets exactly the stored content, then the error after the last chunk
    late = await sse_frames(user, f"/api/v1/messages/{reply}/stream")
    assert late[-1]["type"] == "error", late
    assert late[-1]["problem"]["detail"] == LOST
    assert text_of(late) == message["content"], (late, message["content"])
    assert late[-1]["seq"] == max(chunk_seqs(late), default=0) + 1, late
    figures["late_subscriber_chars_vs_stored"] = [len(text_of(late)), len(message["content"])]
    figures["late_subscriber_last_chunk_and_error_seq"] = [max(chunk_seqs(late), default=0), late[-1]["seq"]]
    figures["chunks_before_kill_missed"] = [len(seqs), len(chunk_seqs(frames))]
    figures["chars_streamed_stored"] = [len(streamed), len(message["content"])]

    # regenerate: a completed sibling beside the failed reply, which stays as it was
    again = await user.json("POST", f"/messages/{reply}/regenerate", 202)
    regenerated = await sse_frames(user, again["stream_url"])
    assert regenerated[-1]["type"] == "done", regenerated[-1]
    assert regenerated[-1]["status"] == "completed"
    sibling = await user.json("GET", f"/messages/{again['reply']['id']}")
    assert sibling["status"] == "completed"
    assert sibling["content"] == text_of(regenerated)
    assert sibling["sibling_ids"] == [reply, sibling["id"]]
    branch = await user.json("GET", f"/conversations/{conversation}/messages")
    assert [m["id"] for m in branch["items"]][-1] == sibling["id"]
    kept = await user.json("GET", f"/messages/{reply}")
    assert (kept["status"], kept["content"]) == ("failed", message["content"])
    return figures


async def follow_after(
    cluster: PrivateCluster, user: User, conversation: str, reply: str, after: int
) -> tuple[list[Frame], float]:
    """A follower back on the restarted API: the reply's frames after ``after``, up to its end,
    and when the end came."""
    async with socket(cluster, conversation, None) as ws:
        await ws.send(json.dumps({"type": "auth", "token": user.token}))
        await ws.send(json.dumps({"type": "subscribe", "message_id": reply, "after": after}))
        frames = await socket_frames(ws, reply, within_s=FAILED_WITHIN_S + 15)
        return frames, time.monotonic()
