"""The conversation WebSocket on a real server (uvicorn), real PostgreSQL and NATS, the offline model."""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest
import websockets
from structlog.testing import capture_logs
from websockets.exceptions import ConnectionClosed

from aiorch_devkit.testing.fuzzing import served

PACE_MS = 10


@pytest.fixture
def api_settings(api_settings):
    return msgspec.structs.replace(api_settings, offline_pace_ms=PACE_MS)


@pytest.fixture
async def server(service_root, api_settings, nats_client, service_engine):
    async with served(service_root.create_app(api_settings)) as base:
        yield base.replace("http://", "ws://")


def bearer(who) -> str:
    return who.headers["authorization"].removeprefix("Bearer ")


async def a_conversation(api, who) -> str:
    response = await api.post("/api/v1/conversations", json={}, headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def socket(server: str, conversation_id: str, token: str | None):
    protocols = ["aiorch.v1"] + ([f"bearer.{token}"] if token else [])
    return websockets.connect(f"{server}/api/v1/conversations/{conversation_id}/ws", subprotocols=protocols)


async def frames_until_end(ws, message_id: str, *, stop_after: int | None = None) -> list[dict]:
    """The frames of ``message_id`` up to its done/error (or the first ``stop_after`` chunks)."""
    got: list[dict] = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if frame.get("message_id") != message_id:
            continue
        got.append(frame)
        if frame["type"] in ("done", "error"):
            return got
        if stop_after is not None and len(got) >= stop_after:
            return got


async def test_a_message_sent_over_the_socket_is_accepted_and_its_reply_streams_in_order(api, caller, server):
    alice = caller()
    conversation_id = await a_conversation(api, alice)
    async with socket(server, conversation_id, bearer(alice)) as ws:
        assert ws.subprotocol == "aiorch.v1"
        await ws.send(json.dumps({"type": "message", "content": "Hello socket"}))
        accepted = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert accepted["type"] == "accepted", accepted
        frames = await frames_until_end(ws, accepted["message_id"])
    chunks = [f for f in frames if f["type"] == "chunk"]
    assert [f["seq"] for f in chunks] == list(range(1, len(chunks) + 1))
    assert frames[-1]["type"] == "done"
    assert frames[-1]["usage"]["completion_tokens"] > 0
    stored = (await api.get(f"/api/v1/messages/{accepted['message_id']}", headers=alice.headers)).json()
    assert stored["content"] == "".join(f["data"] for f in chunks)


async def test_a_dropped_socket_resumes_from_its_last_seq_with_no_gap_and_no_duplicate(api, caller, server):
    alice = caller()
    conversation_id = await a_conversation(api, alice)
    with capture_logs() as logs:
        async with socket(server, conversation_id, bearer(alice)) as ws:
            await ws.send(json.dumps({"type": "message", "content": "A long answer please"}))
            accepted = json.loads(await asyncio.wait_for(ws.recv(), 10))
            reply_id = accepted["message_id"]
            before = await frames_until_end(ws, reply_id, stop_after=4)
        # the connection is gone mid-reply; the reply goes on in the service
        await asyncio.sleep(5 * PACE_MS / 1000)  # frames of it come to the closed socket
    assert [entry for entry in logs if entry["log_level"] == "error"] == []  # a client leaving is no failure
    last = before[-1]["seq"]
    async with socket(server, conversation_id, None) as ws:
        await ws.send(json.dumps({"type": "auth", "token": bearer(alice)}))
        await ws.send(json.dumps({"type": "subscribe", "message_id": reply_id, "after": last}))
        after = await frames_until_end(ws, reply_id)
    chunks = [f for f in before + after if f["type"] == "chunk"]
    assert [f["seq"] for f in chunks] == list(range(1, len(chunks) + 1))
    assert after[-1]["type"] == "done"
    stored = (await api.get(f"/api/v1/messages/{reply_id}", headers=alice.headers)).json()
    assert stored["status"] == "completed"
    assert "".join(f["data"] for f in chunks) == stored["content"]


async def test_without_a_token_the_socket_is_refused_with_a_problem(api, caller, server):
    alice = caller()
    conversation_id = await a_conversation(api, alice)
    async with socket(server, conversation_id, None) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        refusal = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert refusal["type"] == "error"
        assert refusal["problem"]["status"] == 401
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd.code == 1008
    async with socket(server, conversation_id, "not-a-token") as ws:
        refusal = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert refusal["problem"]["status"] == 401


async def test_another_users_conversation_and_replies_are_not_found_over_the_socket(api, caller, server):
    alice, bob = caller(), caller()
    conversation_id = await a_conversation(api, alice)
    started = (
        await api.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"content": "secret"},
            headers=alice.headers,
        )
    ).json()
    async with socket(server, conversation_id, bearer(bob)) as ws:
        refusal = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert refusal["problem"]["status"] == 404
    bobs = await a_conversation(api, bob)
    async with socket(server, bobs, bearer(bob)) as ws:
        for frame in (
            {"type": "subscribe", "message_id": started["reply"]["id"], "after": 0},
            {"type": "stop", "message_id": started["reply"]["id"]},
        ):
            await ws.send(json.dumps(frame))
            answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert answer["type"] == "error"
            assert answer["problem"]["status"] == 404
            assert "secret" not in json.dumps(answer)


async def test_bad_frames_get_a_problem_and_the_socket_stays_usable(api, caller, server):
    alice = caller()
    conversation_id = await a_conversation(api, alice)
    async with socket(server, conversation_id, bearer(alice)) as ws:
        for bad in (
            "not json",
            "{}",
            '{"type": "message"}',
            '{"type": "message", "content": ""}',
            '{"type": "subscribe", "message_id": "x"}',
            '{"type": "nope"}',
            "[]",
        ):
            await ws.send(bad)
            answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert answer["type"] == "error", bad
            assert answer["problem"]["status"] == 400, (bad, answer)
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}


async def test_a_socket_whose_token_expires_unrefreshed_is_closed_with_a_problem(
    api, caller, server, jwks, monkeypatch
):
    from datetime import UTC, datetime, timedelta

    from tests.conftest import token

    from chat.entrypoints.http import reply_socket
    from identity.adapters.crypto.jwt_tokens import DEFAULT_TTL

    monkeypatch.setattr(reply_socket, "TOKEN_CHECK_S", 0.2)
    # the verifier allows 30 s of clock skew: this token is refused 2 s from now
    access, _, _ = token(jwks.keys, now=datetime.now(UTC) - DEFAULT_TTL - timedelta(seconds=28))
    headers = {"authorization": f"Bearer {access}"}
    conversation_id = (await api.post("/api/v1/conversations", json={}, headers=headers)).json()["id"]
    async with socket(server, conversation_id, access) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}
        refusal = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert refusal["type"] == "error"
        assert refusal["problem"]["status"] == 401
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
