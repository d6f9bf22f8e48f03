"""IDOR matrix: user B gets the answer of an id that exists nowhere — a 404 problem, or the same
refusal — on every operation naming user A's conversation, message, reply or attachment, and
never a byte of A's data.

Driven by chat's own OpenAPI document, so an operation added later cannot escape it: every
operation with a path parameter must find an id of A's below (and a valid body for B when it takes
one), or the matrix fails and says what is missing. A valid body matters: a 400 for a malformed
body would hide a missing ownership check. Each answer is compared with the answer to a random id
(ids blanked): no existence oracle. The surfaces outside the document (the conversation's
WebSocket) and the two that stream (SSE, the download) are driven explicitly on a real server.
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
import zlib
from typing import Any
from uuid import uuid4

import msgspec
import pytest
import websockets
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from aiorch_devkit.testing.fuzzing import served

SECRET = "Alice's plan: tangerine zeppelin"
TITLE = "Alice's secret conversation"

# operation id -> A's id for each path parameter, where the default below is not the one to try
PATH_IDS: dict[str, dict[str, str]] = {"edit_message": {"message_id": "user_message_id"}}
DEFAULT_PATH_IDS = {
    "conversation_id": "conversation_id",
    "message_id": "reply_id",
    "attachment_id": "attachment_id",
}
# operation id -> a valid body for B (built from A's ids) for operations that take one
BODIES: dict[str, Any] = {
    "update_conversation": lambda a: {"title": "mine now", "pinned": True},
    "post_message": lambda a: {"content": "B writes here"},
    "select_branch": lambda a: {"leaf_id": a["reply_id"]},
    "edit_message": lambda a: {"content": "B edits"},
}
# required query parameters of the operations with no path parameter (B's own lists)
QUERIES: dict[str, dict[str, str]] = {"search": {"q": "tangerine zeppelin"}}
# operations whose body (or query) names A's resource while the path is B's own or has no id:
# (method, url, body, query) for the given ids of A's (or made-up ones) and B's
BODY_REFERENCES: dict[str, Any] = {
    "create_conversation (A's project)": lambda a, b: (
        "POST",
        "/api/v1/conversations",
        {"project_id": a["project_id"]},
        None,
    ),
    "create_conversation (A's task)": lambda a, b: (
        "POST",
        "/api/v1/conversations",
        {"project_id": b["project_id"], "task_id": a["task_id"]},
        None,
    ),
    "update_conversation (A's project)": lambda a, b: (
        "PATCH",
        f"/api/v1/conversations/{b['conversation_id']}",
        {"project_id": a["project_id"]},
        None,
    ),
    "post_message (A's reply as parent)": lambda a, b: (
        "POST",
        f"/api/v1/conversations/{b['conversation_id']}/messages",
        {"content": "under yours", "parent_id": a["reply_id"]},
        None,
    ),
    "post_message (A's attachment)": lambda a, b: (
        "POST",
        f"/api/v1/conversations/{b['conversation_id']}/messages",
        {"content": "with yours", "attachment_ids": [a["loose_attachment_id"]]},
        None,
    ),
    "select_branch (A's reply)": lambda a, b: (
        "POST",
        f"/api/v1/conversations/{b['conversation_id']}/select",
        {"leaf_id": a["reply_id"]},
        None,
    ),
    "list_conversation_messages (A's leaf)": lambda a, b: (
        "GET",
        f"/api/v1/conversations/{b['conversation_id']}/messages",
        None,
        {"leaf_id": a["reply_id"]},
    ),
    "list_conversations (A's project)": lambda a, b: (
        "GET",
        "/api/v1/conversations",
        None,
        {"project_id": a["project_id"]},
    ),
    "list_conversations (A's task)": lambda a, b: (
        "GET",
        "/api/v1/conversations",
        None,
        {"task_id": a["task_id"]},
    ),
}

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def a_png() -> bytes:
    """A valid 1 by 1 PNG (signature, IHDR, IDAT, IEND)."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + _chunk(b"IEND", b"")
    )


def blanked(text: str) -> str:
    """An answer with its ids (and request ids) blanked, to compare two refusals."""
    try:
        body = json.loads(text)
    except ValueError:
        return UUID_TEXT.sub("<id>", text)
    if isinstance(body, dict):
        body.pop("request_id", None)
        body.pop("instance", None)
    return UUID_TEXT.sub("<id>", json.dumps(body, sort_keys=True))


def operations(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """The document's operations, the deletes last: one wrongly allowed must not leave the others
    nothing to find (a 404 that would hide their own missing checks)."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append((method.upper(), path, operation["operationId"], operation))
    return sorted(found, key=lambda op: op[0] == "DELETE")


@pytest.fixture
def api_settings(api_settings, tmp_path):
    return msgspec.structs.replace(api_settings, offline_pace_ms=0, blob_dir=str(tmp_path / "blobs"))


async def upload(api, who) -> str:
    created = await api.post(
        "/api/v1/attachments", files={"file": ("dot.png", a_png(), "image/png")}, headers=who.headers
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def resources_of(api, who, replica) -> dict[str, str]:
    """One of each of ``who``'s resources, made through the API (the project and task through
    the ownership replica, as orchestrator's events would): a conversation linked to both, a
    message with an attachment and its finished reply, and an attachment not yet attached."""
    project_id = await replica.project(who.user_id)
    task_id = await replica.task(who.user_id, project_id)
    conversation = await api.post(
        "/api/v1/conversations",
        json={"title": TITLE, "project_id": str(project_id), "task_id": str(task_id)},
        headers=who.headers,
    )
    assert conversation.status_code == 201, conversation.text
    conversation_id = conversation.json()["id"]
    attachment_id = await upload(api, who)
    started = await api.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"content": SECRET, "attachment_ids": [attachment_id]},
        headers=who.headers,
    )
    assert started.status_code == 202, started.text
    reply_id = started.json()["reply"]["id"]
    streamed = await api.get(f"/api/v1/messages/{reply_id}/stream", headers=who.headers)
    assert "event: done" in streamed.text, streamed.text[-300:]
    return {
        "project_id": str(project_id),
        "task_id": str(task_id),
        "conversation_id": conversation_id,
        "user_message_id": started.json()["user_message_id"],
        "reply_id": reply_id,
        "attachment_id": attachment_id,
        "loose_attachment_id": await upload(api, who),
    }


async def own_conversation(api, who, replica) -> dict[str, str]:
    project_id = await replica.project(who.user_id)
    created = await api.post("/api/v1/conversations", json={}, headers=who.headers)
    assert created.status_code == 201, created.text
    return {"project_id": str(project_id), "conversation_id": created.json()["id"]}


def leaks(text: str, a: dict[str, str], *, sent: str = "") -> list[str]:
    """What of A's shows in ``text``: the secret words, the title, any of A's ids but those B
    ``sent`` (a refusal may name the id it refuses)."""
    ids = [value for value in a.values() if value not in sent]
    return [what for what in (SECRET, "tangerine", TITLE, *ids) if what in text]


async def test_user_b_gets_what_an_unknown_id_gets_on_every_operation_naming_user_as_resources(
    api, caller, replica
):
    alice, bob = caller(), caller()
    a = await resources_of(api, alice, replica)
    b = await own_conversation(api, bob, replica)
    nowhere = {key: str(uuid4()) for key in a}
    document = (await api.get("/schema/openapi.json")).json()
    replies_before = (await api.get(f"/api/v1/messages/{a['reply_id']}", headers=alice.headers)).json()

    checked, refused = [], []
    for method, path, operation_id, operation in operations(document):
        params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        has_body = "requestBody" in operation
        if not params:
            if method != "GET" or not path.startswith("/api/"):
                continue
            # B's own lists and searches: nothing of A's in them
            answer = await api.get(path, params=QUERIES.get(operation_id), headers=bob.headers)
            checked.append(f"{operation_id} (B's list)")
            if answer.status_code != 200 or leaks(answer.text, a):
                refused.append(f"{method} {path}: {answer.status_code} {leaks(answer.text, a)}")
            continue
        names = {**DEFAULT_PATH_IDS, **PATH_IDS.get(operation_id, {})}
        missing = [p for p in params if p not in names]
        assert not missing, f"{operation_id}: no id of A's for path parameter(s) {missing}: add one"
        assert not has_body or operation_id in BODIES, f"{operation_id}: add a valid body for B to BODIES"
        body = BODIES[operation_id](a) if has_body else None
        answers = []
        for ids in (a, nowhere):
            url = path.format(**{p: ids[names[p]] for p in params})
            answers.append(await api.request(method, url, json=body, headers=bob.headers))
        answer, unknown = answers
        checked.append(operation_id)
        if (
            answer.status_code != 404
            or not answer.headers["content-type"].startswith("application/problem+json")
            or blanked(answer.text) != blanked(unknown.text)
            or leaks(answer.text, a, sent=f"{answer.url} {body}")
        ):
            refused.append(
                f"{method} {path} ({operation_id}): {answer.status_code} {answer.text[:200]}"
                f" / an unknown id: {unknown.status_code} {unknown.text[:200]}"
            )

    # A's id in B's body or query is answered exactly as an id that exists nowhere
    for name, build in BODY_REFERENCES.items():
        method, url, body, query = build(a, b)
        answer = await api.request(method, url, json=body, params=query, headers=bob.headers)
        method, url, other, query = build(nowhere, b)
        unknown = await api.request(method, url, json=other, params=query, headers=bob.headers)
        checked.append(name)
        same = answer.status_code == unknown.status_code and blanked(answer.text) == blanked(unknown.text)
        sent = f"{answer.url} {body}"
        if not same or answer.status_code not in (200, 400, 404, 422) or leaks(answer.text, a, sent=sent):
            refused.append(
                f"{name}: {answer.status_code} {answer.text[:200]}"
                f" / with an unknown id: {unknown.status_code} {unknown.text[:200]}"
            )
        if answer.status_code == 200:  # a list filtered by A's project or task: B's own, empty
            assert answer.json()["items"] == [], name

    print(f"\nIDOR matrix: {len(checked)} requests of B naming A's ids, {len(refused)} answered otherwise")
    assert not refused, "\n".join(refused)
    # and A's resources are untouched: everything B tried was refused before it changed anything
    conversation = await api.get(f"/api/v1/conversations/{a['conversation_id']}", headers=alice.headers)
    assert conversation.status_code == 200
    assert (conversation.json()["title"], conversation.json()["pinned"]) == (TITLE, False)
    branch = await api.get(f"/api/v1/conversations/{a['conversation_id']}/messages", headers=alice.headers)
    assert [m["id"] for m in branch.json()["items"]] == [a["user_message_id"], a["reply_id"]]
    reply = (await api.get(f"/api/v1/messages/{a['reply_id']}", headers=alice.headers)).json()
    assert reply == replies_before
    for attachment_id in (a["attachment_id"], a["loose_attachment_id"]):
        download = await api.get(f"/api/v1/attachments/{attachment_id}/content", headers=alice.headers)
        assert (download.status_code, download.content) == (200, a_png())
    # and what B's lists showed none of is there for A: the check above was not vacuous
    found = await api.get("/api/v1/search", params=QUERIES["search"], headers=alice.headers)
    assert a["conversation_id"] in found.text
    listed = await api.get("/api/v1/attachments", headers=alice.headers)
    assert a["loose_attachment_id"] in listed.text
    assert a["conversation_id"] in (await api.get("/api/v1/conversations", headers=alice.headers)).text


@pytest.fixture
async def server(service_root, api_settings, nats_client, service_engine):
    async with served(service_root.create_app(api_settings)) as base:
        yield base.replace("http://", "ws://")


def socket(server: str, conversation_id: str, who):
    token = who.headers["authorization"].removeprefix("Bearer ")
    return websockets.connect(
        f"{server}/api/v1/conversations/{conversation_id}/ws",
        subprotocols=[Subprotocol("aiorch.v1"), Subprotocol(f"bearer.{token}")],
    )


async def frame(ws) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), 10)))


async def refusal_of_the_socket(server: str, conversation_id: str, who) -> tuple[dict[str, Any], int]:
    """The first frame of a socket opened on ``conversation_id``, and its close code."""
    async with socket(server, conversation_id, who) as ws:
        first = await frame(ws)
        with pytest.raises(ConnectionClosed) as closed:
            await frame(ws)
    assert closed.value.rcvd is not None
    return first, closed.value.rcvd.code


async def test_the_socket_the_stream_and_the_download_of_user_as_resources_are_not_found_for_b(
    api, caller, replica, server
):
    alice, bob = caller(), caller()
    a = await resources_of(api, alice, replica)
    b = await own_conversation(api, bob, replica)
    nowhere = {key: str(uuid4()) for key in a}

    # the conversation's WebSocket: an error frame with a 404 problem, then closed (1008), as for
    # a conversation that does not exist
    first, code = await refusal_of_the_socket(server, a["conversation_id"], bob)
    unknown_first, unknown_code = await refusal_of_the_socket(server, nowhere["conversation_id"], bob)
    assert first["type"] == "error"
    assert first["problem"]["status"] == 404
    assert code == unknown_code == 1008
    assert blanked(json.dumps(first)) == blanked(json.dumps(unknown_first))

    # on B's own socket, every frame naming A's reply or attachment is answered as an unknown one
    async with socket(server, b["conversation_id"], bob) as ws:
        for build in (
            lambda ids: {"type": "subscribe", "message_id": ids["reply_id"], "after": 0},
            lambda ids: {"type": "stop", "message_id": ids["reply_id"]},
            lambda ids: {"type": "message", "content": "under yours", "parent_id": ids["reply_id"]},
            lambda ids: {
                "type": "message",
                "content": "with yours",
                "attachment_ids": [ids["loose_attachment_id"]],
            },
        ):
            answers = []
            for ids in (a, nowhere):
                await ws.send(json.dumps(build(ids)))
                answers.append(await frame(ws))
            answer, unknown = answers
            assert answer["type"] == "error", answer
            assert answer["problem"]["status"] in (400, 404, 422), answer
            assert blanked(json.dumps(answer)) == blanked(json.dumps(unknown)), (answer, unknown)
            assert not leaks(json.dumps(answer), a, sent=json.dumps(build(a))), answer

    # SSE: a 404 problem, from the start or resumed, never a frame of A's reply
    for headers in (bob.headers, {**bob.headers, "Last-Event-ID": "0"}):
        stream = await api.get(f"/api/v1/messages/{a['reply_id']}/stream", headers=headers)
        unknown = await api.get(f"/api/v1/messages/{nowhere['reply_id']}/stream", headers=headers)
        assert stream.status_code == 404, stream.text
        assert stream.headers["content-type"].startswith("application/problem+json")
        assert blanked(stream.text) == blanked(unknown.text)
        assert SECRET not in stream.text
        assert "event:" not in stream.text

    # the download: a 404 problem, not the bytes
    for attachment_id, unknown_id in (
        (a["attachment_id"], nowhere["attachment_id"]),
        (a["loose_attachment_id"], nowhere["loose_attachment_id"]),
    ):
        download = await api.get(f"/api/v1/attachments/{attachment_id}/content", headers=bob.headers)
        unknown = await api.get(f"/api/v1/attachments/{unknown_id}/content", headers=bob.headers)
        assert download.status_code == 404
        assert download.headers["content-type"].startswith("application/problem+json")
        assert b"PNG" not in download.content
        assert blanked(download.text) == blanked(unknown.text)

    # A's reply was neither stopped nor branched by any of it
    reply = (await api.get(f"/api/v1/messages/{a['reply_id']}", headers=alice.headers)).json()
    assert reply["status"] == "completed"
    branch = await api.get(f"/api/v1/conversations/{a['conversation_id']}/messages", headers=alice.headers)
    assert [m["id"] for m in branch.json()["items"]] == [a["user_message_id"], a["reply_id"]]
