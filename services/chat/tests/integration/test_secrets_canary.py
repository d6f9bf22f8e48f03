"""Secrets canary: a model's API key (in chat's registry replica, sealed as orchestrator seals it)
and a user's access token, driven through replies that succeed, fail with the provider's 401 and
break mid-stream — over REST, SSE and the WebSocket, with refused tokens too — appear in no
response body, no SSE or WebSocket frame, no log line (structlog's events before rendering, the
standard library's records), no message on NATS (events from the outbox, reply frames) and no
database row in plaintext.

The providers are fake OpenAI-compatible servers on loopback that echo the key back in their
errors, as real ones do: the key must be scrubbed before anything shows it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest
import sqlalchemy as sa
import websockets
from structlog.testing import capture_logs
from websockets.typing import Subprotocol

from aiorch_devkit.testing.fuzzing import served
from aiorch_devkit.testing.polling import eventually
from chat.application.ports.replicas import ModelReplica
from chat.application.replicas import on_model_changed
from shared.crypto.key_file import KeyFile
from shared.crypto.sealing import seal_api_key
from shared.kernel.ids import new_id

KEY = "sk-canary-chat-3f9a7c1e5b2d4680"

Asgi = Callable[
    [dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Callable[[dict[str, Any]], Any]], Any
]


def fake_provider(seen: list[tuple[str, str]]) -> Asgi:
    """An OpenAI-compatible server: ``/good`` answers (streamed or whole), ``/bad`` refuses with 401
    quoting the key it was sent, ``/broken`` starts streaming then sends an error quoting it."""

    async def app(scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        authorization = dict(scope["headers"]).get(b"authorization", b"").decode()
        seen.append((scope["path"], authorization))
        streamed = bool(json.loads(body or b"{}").get("stream"))
        if scope["path"].startswith("/bad/"):
            error = {"error": {"message": f"Incorrect API key provided: {authorization}", "code": 401}}
            await respond(send, 401, "application/json", json.dumps(error).encode())
        elif scope["path"].startswith("/broken/"):
            events: list[dict[str, Any]] = [
                {"choices": [{"index": 0, "delta": {"content": "Half "}, "finish_reason": None}]},
                {"error": {"message": f"upstream failed for key {authorization}", "code": "server_error"}},
            ]
            await respond(send, 200, "text/event-stream", sse(events))
        elif streamed:
            events = [
                {"choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
                for word in ("Hello ", "from ", "the ", "good ", "model")
            ]
            events.append(
                {
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 5},
                }
            )
            await respond(send, 200, "text/event-stream", sse(events))
        else:
            whole = {
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "A title"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2},
            }
            await respond(send, 200, "application/json", json.dumps(whole).encode())

    return app


def sse(events: list[dict[str, Any]]) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


async def respond(send, status: int, content_type: str, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def every_row(service_engine) -> str:
    """Every row of every table of chat's schema as text: what a pg_dump would show."""
    async with service_engine.connect() as conn:
        tables = (
            await conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
            )
        ).scalars()
        dumped = []
        for table in list(tables):
            rows = await conn.execute(sa.text(f'SELECT row_to_json(t)::text FROM "{table}" t'))
            dumped += [f"{table}: {row}" for row in rows.scalars()]
    return "\n".join(dumped)


def the_tests_own(record: logging.LogRecord) -> bool:
    """A line of the test's own clients (the WebSocket client's frames, the test client's requests),
    which hold the token because the test sends it; the service's lines are all the others."""
    return record.name.startswith("websockets.client") or (
        record.name == "httpx" and "//testserver.local/" in record.getMessage()
    )


@pytest.fixture
def seal_key_file(tmp_path: Path) -> Path:
    return tmp_path / "model-seal-key.json"


@pytest.fixture
def api_settings(api_settings, tmp_path, seal_key_file):
    return msgspec.structs.replace(
        api_settings,
        offline_pace_ms=0,
        model_cache_ms=0,
        model_seal_key_file=str(seal_key_file),
        blob_dir=str(tmp_path / "blobs"),
    )


@pytest.fixture
def seen() -> list[tuple[str, str]]:
    return []


@pytest.fixture
async def provider(seen) -> AsyncIterator[str]:
    async with served(fake_provider(seen)) as url:
        yield url


@pytest.fixture
async def server(service_root, api_settings, nats_client, service_engine) -> AsyncIterator[str]:
    async with served(service_root.create_app(api_settings)) as base:
        yield base.replace("http://", "ws://")


async def register(uow, seal_key_file: Path, name: str, base_url: str) -> UUID:
    """A model in chat's replica as the ``chat.model-registry`` consumer stores it: its key sealed
    by orchestrator's means (``shared.crypto``) with the seal key both services share."""
    model_id = new_id()
    model = ModelReplica(
        id=model_id,
        name=name,
        provider="openai",
        base_url=base_url,
        model=f"{name}-model",
        parameters={},
        enabled=True,
        is_default=False,
        sealed_api_key=seal_api_key(KEY, model_id, KeyFile(seal_key_file)),
        changed_at=datetime.now(UTC),
    )
    assert await on_model_changed(model, uow())
    return model_id


async def test_no_api_key_or_access_token_leaks_into_answers_frames_logs_events_or_rows(
    api,
    caller,
    server,
    provider,
    seen,
    uow,
    seal_key_file,
    service_root,
    api_settings,
    service_engine,
    nats_client,
    caplog,
):
    alice = caller()
    token = alice.headers["authorization"].removeprefix("Bearer ")
    models = {
        name: await register(uow, seal_key_file, name, f"{provider}/{name}/v1")
        for name in ("good", "bad", "broken")
    }
    published: list[tuple[str, bytes, dict[str, str]]] = []

    async def collect(message) -> None:
        published.append((message.subject, message.data, dict(message.headers or {})))

    subscription = await nats_client.subscribe(">", cb=collect)
    answers: list[Any] = []
    frames: list[str] = []

    async def call(method: str, url: str, **kwargs) -> Any:
        answer = await api.request(method, url, **kwargs)
        answers.append(answer)
        return answer

    caplog.set_level(logging.DEBUG)
    async with service_root.open_worker(api_settings) as worker:
        stop = asyncio.Event()
        relay = asyncio.create_task(worker.relay.run(stop))
        with capture_logs() as logs:
            conversations = {}
            for name, model_id in models.items():
                created = await call(
                    "POST", "/api/v1/conversations", json={"model_id": str(model_id)}, headers=alice.headers
                )
                assert created.status_code == 201, created.text
                conversations[name] = created.json()["id"]
            # over REST and SSE: a reply from each model, one regenerated, one stopped
            replies = {}
            for name, conversation_id in conversations.items():
                started = await call(
                    "POST",
                    f"/api/v1/conversations/{conversation_id}/messages",
                    json={"content": f"Hello {name}"},
                    headers=alice.headers,
                )
                assert started.status_code == 202, started.text
                replies[name] = started.json()["reply"]["id"]
                await call("GET", f"/api/v1/messages/{replies[name]}/stream", headers=alice.headers)
            regenerated = await call(
                "POST", f"/api/v1/messages/{replies['bad']}/regenerate", headers=alice.headers
            )
            await call(
                "GET", f"/api/v1/messages/{regenerated.json()['reply']['id']}/stream", headers=alice.headers
            )
            await call("POST", f"/api/v1/messages/{replies['good']}/stop", headers=alice.headers)
            for conversation_id in conversations.values():
                await call("GET", f"/api/v1/conversations/{conversation_id}/messages", headers=alice.headers)
                await call("GET", f"/api/v1/conversations/{conversation_id}", headers=alice.headers)
            await call("GET", "/api/v1/conversations", headers=alice.headers)
            await call("GET", "/api/v1/usage", headers=alice.headers)
            await call("GET", "/api/v1/whoami", headers=alice.headers)
            # refused tokens: tampered, in the wrong scheme, and where none is needed
            for headers in (
                {"authorization": f"Bearer {token}x"},
                {"authorization": f"Bearer {token[:-4]}"},
                {"authorization": f"Token {token}"},
                {"authorization": f"Bearer {token} {token}"},
            ):
                refused = await call("GET", "/api/v1/conversations", headers=headers)
                assert refused.status_code == 401
            await call("GET", "/api/v1/nothing-here", headers=alice.headers)
            await call("DELETE", "/api/v1/usage", headers=alice.headers)
            await call("GET", f"/api/v1/conversations?access_token={token}", headers=alice.headers)

            # over the WebSocket: the token as subprotocol and as the first frame, a tampered one
            ws_url = f"{server}/api/v1/conversations/{conversations['good']}/ws"
            async with websockets.connect(
                ws_url, subprotocols=[Subprotocol("aiorch.v1"), Subprotocol(f"bearer.{token}")]
            ) as ws:
                await ws.send(json.dumps({"type": "message", "content": "Hello socket"}))
                while True:
                    frames.append(str(await asyncio.wait_for(ws.recv(), 20)))
                    if json.loads(frames[-1])["type"] in ("done", "error"):
                        break
            bad_url = f"{server}/api/v1/conversations/{conversations['bad']}/ws"
            async with websockets.connect(bad_url, subprotocols=[Subprotocol("aiorch.v1")]) as ws:
                await ws.send(json.dumps({"type": "auth", "token": token}))
                await ws.send(json.dumps({"type": "message", "content": "Hello bad socket"}))
                while True:
                    frames.append(str(await asyncio.wait_for(ws.recv(), 20)))
                    if json.loads(frames[-1])["type"] in ("done", "error"):
                        break
                await ws.send(json.dumps({"type": "auth", "token": token + "x"}))
                frames.append(str(await asyncio.wait_for(ws.recv(), 20)))
            async with websockets.connect(
                ws_url, subprotocols=[Subprotocol("aiorch.v1"), Subprotocol(f"bearer.{token}x")]
            ) as ws:
                frames.append(str(await asyncio.wait_for(ws.recv(), 20)))

            async def all_published() -> bool:
                subjects = [subject for subject, _, _ in published]
                return subjects.count("chat.conversation.created") >= 3 and (
                    subjects.count("chat.message.completed") >= 6
                )

            await eventually(all_published, within_s=20)
            dumped = await every_row(service_engine)
        stop.set()
        await relay
    await subscription.unsubscribe()

    # the canary is live: each provider was sent the key, and each reply ended as it should
    assert {path.split("/")[1] for path, _ in seen} == {"good", "bad", "broken"}
    assert {authorization for _, authorization in seen} == {f"Bearer {KEY}"}
    statuses = {
        name: (await api.get(f"/api/v1/messages/{reply_id}", headers=alice.headers)).json()["status"]
        for name, reply_id in replies.items()
    }
    assert statuses == {"good": "completed", "bad": "failed", "broken": "failed"}
    assert any('"error"' in a.text and "401" in a.text for a in answers), "no 401 from the provider was shown"
    assert "model_replicas: " in dumped
    assert "outbox: " in dumped

    texts = {
        "responses": "\n".join(f"{a.status_code} {dict(a.headers)} {a.text}" for a in answers),
        "WebSocket frames": "\n".join(frames),
        "structlog events": repr(logs),
        "log records": "\n".join(
            f"{r.name} {r.getMessage()} {r.args!r} {r.__dict__.get('exc_text')}"
            for r in caplog.records
            if not the_tests_own(r)
        ),
        "NATS messages": repr(published),
        "database rows": dumped,
    }
    signature = token.rsplit(".", 1)[1]
    for secret, what in (
        (KEY, "the API key"),
        (token, "the access token"),
        (signature, "the token's signature"),
    ):
        for where, text in texts.items():
            assert secret not in text, f"{what} appears in the {where}"
            assert secret.encode().hex() not in text, f"{what} appears hex-encoded in the {where}"
    print(
        f"\nsecrets canary: {len(answers)} answers, {len(frames)} WebSocket frames, {len(logs)} structlog "
        f"events, {len(caplog.records)} log records, {len(published)} NATS messages, "
        f"{dumped.count(chr(10)) + 1} rows: no API key, no access token"
    )
