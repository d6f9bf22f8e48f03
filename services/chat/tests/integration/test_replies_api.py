"""Posting, streaming, resuming, stopping, regenerating and editing, over HTTP and SSE, with
the built-in offline model on real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest

PACE_MS = 5


@pytest.fixture
def api_settings(api_settings):
    return msgspec.structs.replace(api_settings, offline_pace_ms=PACE_MS)


async def a_conversation(api, who) -> str:
    response = await api.post("/api/v1/conversations", json={}, headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def sse_frames(text: str) -> list[tuple[str | None, str, dict]]:
    """(id, event, data) of each event of an SSE body."""
    frames = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if "data" in fields:
            frames.append((fields.get("id"), fields.get("event", "message"), json.loads(fields["data"])))
    return frames


async def stream(api, who, message_id: str, after: int | None = None) -> list[tuple[str | None, str, dict]]:
    headers = dict(who.headers)
    if after is not None:
        headers["Last-Event-ID"] = str(after)
    response = await api.get(f"/api/v1/messages/{message_id}/stream", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-cache, no-transform"
    assert response.headers["x-accel-buffering"] == "no"
    return sse_frames(response.text)


async def a_finished(api, who, message_id: str) -> dict:
    for _ in range(400):
        response = await api.get(f"/api/v1/messages/{message_id}", headers=who.headers)
        body = response.json()
        if body["status"] not in ("pending", "streaming"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"reply {message_id} never finished")


async def test_a_posted_message_gets_a_reply_streamed_in_numbered_chunks_then_done(api, caller):
    alice = caller()
    conversation_id = await a_conversation(api, alice)
    response = await api.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"content": "Hello there"},
        headers=alice.headers,
    )
    assert response.status_code == 202, response.text
    started = response.json()
    reply_id = started["reply"]["id"]
    assert started["reply"]["status"] == "pending"
    assert started["stream_url"] == f"/api/v1/messages/{reply_id}/stream"

    frames = await stream(api, alice, reply_id)
    chunks = [data for _, event, data in frames if event == "chunk"]
    assert chunks
    assert [c["seq"] for c in chunks] == list(range(1, len(chunks) + 1))
    assert all(c["message_id"] == reply_id and c["conversation_id"] == conversation_id for c in chunks)
    event_id, event, done = frames[-1]
    assert event == "done"
    assert done["status"] == "completed"
    assert int(event_id) == len(chunks) + 1
    assert done["usage"]["completion_tokens"] > 0

    stored = await a_finished(api, alice, reply_id)
    assert stored["status"] == "completed"
    assert stored["content"] == "".join(c["data"] for c in chunks)


async def test_resuming_with_last_event_id_gives_exactly_the_missed_chunks(api, caller):
    alice = caller()
    conversation_id = await a_conversation(api, alice)
    started = (
        await api.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"content": "Tell me more"},
            headers=alice.headers,
        )
    ).json()
    reply_id = started["reply"]["id"]
    whole = await stream(api, alice, reply_id)
    chunks = [data for _, event, data in whole if event == "chunk"]
    resumed = await stream(api, alice, reply_id, after=3)
    resumed_chunks = [data for _, event, data in resumed if event == "chunk"]
    assert [c["seq"] for c in resumed_chunks] == [c["seq"] for c in chunks[3:]]
    assert (
        "".join(c["data"] for c in chunks[:3] + resumed_chunks)
        == (await a_finished(api, alice, reply_id))["content"]
    )
    assert resumed[-1][1] == "done"


async def test_another_users_reply_stream_is_not_found(api, caller):
    alice, bob = caller(), caller()
    conversation_id = await a_conversation(api, alice)
    started = (
        await api.post(
            f"/api/v1/conversations/{conversation_id}/messages", json={"content": "Hi"}, headers=alice.headers
        )
    ).json()
    reply_id = started["reply"]["id"]
    for method, path in (
        ("GET", f"/api/v1/messages/{reply_id}/stream"),
        ("POST", f"/api/v1/messages/{reply_id}/stop"),
        ("POST", f"/api/v1/messages/{reply_id}/regenerate"),
        ("POST", f"/api/v1/conversations/{conversation_id}/messages"),
    ):
        kwargs = {"json": {"content": "mine?"}} if path.endswith("/messages") else {}
        response = await api.request(method, path, headers=bob.headers, **kwargs)
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_stopping_keeps_the_partial_content_as_stopped_and_regenerate_writes_a_sibling(
    api, caller, api_settings
):
    alice = caller()
    conversation_id = await a_conversation(api, alice)
    started = (
        await api.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"content": "Write a long essay"},
            headers=alice.headers,
        )
    ).json()
    reply_id = started["reply"]["id"]
    await asyncio.sleep(PACE_MS * 5 / 1000)
    stopped = await api.post(f"/api/v1/messages/{reply_id}/stop", headers=alice.headers)
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "stopped"
    frames = await stream(api, alice, reply_id)
    assert frames[-1][1] == "done"
    assert frames[-1][2]["status"] == "stopped"
    partial = stopped.json()["content"]
    assert "".join(d["data"] for _, e, d in frames if e == "chunk") == partial

    again = await api.post(f"/api/v1/messages/{reply_id}/regenerate", headers=alice.headers)
    assert again.status_code == 202, again.text
    new_reply = again.json()["reply"]
    assert new_reply["parent_id"] == started["reply"]["parent_id"]
    assert new_reply["id"] != reply_id
    assert (await a_finished(api, alice, new_reply["id"]))["status"] == "completed"
    branch = (
        await api.get(f"/api/v1/conversations/{conversation_id}/messages", headers=alice.headers)
    ).json()
    assert branch["items"][-1]["id"] == new_reply["id"]
    assert branch["items"][-1]["sibling_ids"] == [reply_id, new_reply["id"]]


async def test_editing_a_message_starts_a_new_branch_with_its_own_reply(api, caller):
    alice = caller()
    conversation_id = await a_conversation(api, alice)
    first = (
        await api.post(
            f"/api/v1/conversations/{conversation_id}/messages", json={"content": "Hi"}, headers=alice.headers
        )
    ).json()
    await a_finished(api, alice, first["reply"]["id"])
    edited = await api.post(
        f"/api/v1/messages/{first['user_message_id']}/edit",
        json={"content": "Hello instead"},
        headers=alice.headers,
    )
    assert edited.status_code == 202, edited.text
    await a_finished(api, alice, edited.json()["reply"]["id"])
    branch = (
        await api.get(f"/api/v1/conversations/{conversation_id}/messages", headers=alice.headers)
    ).json()
    assert next(m["content"] for m in branch["items"]) == "Hello instead"
    assert branch["items"][0]["sibling_ids"] == [first["user_message_id"], edited.json()["user_message_id"]]


async def test_the_first_exchange_gives_the_conversation_a_title(api, caller):
    alice = caller()
    conversation_id = await a_conversation(api, alice)
    started = (
        await api.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"content": "Plan a trip to Rome"},
            headers=alice.headers,
        )
    ).json()
    await a_finished(api, alice, started["reply"]["id"])
    for _ in range(100):
        conversation = (
            await api.get(f"/api/v1/conversations/{conversation_id}", headers=alice.headers)
        ).json()
        if conversation["title"]:
            break
        await asyncio.sleep(0.05)
    assert conversation["title"] == "Plan a trip to Rome"  # the offline model's title: the user's first words


async def test_bad_posts_are_problems_and_store_nothing(api, caller):
    alice = caller()
    conversation_id = await a_conversation(api, alice)
    url = f"/api/v1/conversations/{conversation_id}/messages"
    for body in (
        {},
        {"content": ""},
        {"content": 5},
        {"content": "x", "extra": 1},
        {"content": "x", "parent_id": "nope"},
    ):
        response = await api.post(url, json=body, headers=alice.headers)
        assert response.status_code == 400, (body, response.text)
    response = await api.post(url, json={"content": "x" * 32_001}, headers=alice.headers)
    assert response.status_code == 400, response.text
    branch = (
        await api.get(f"/api/v1/conversations/{conversation_id}/messages", headers=alice.headers)
    ).json()
    assert branch["items"] == []


async def test_two_posts_racing_for_the_last_message_of_a_budget_get_one_202_and_one_429(api, caller, uow):
    from datetime import UTC, datetime

    async with uow() as work:
        await work.settings.save("chat.budget.messages_per_window", 1, datetime.now(UTC))
        await work.commit()
    alice = caller()
    first, second = [await a_conversation(api, alice) for _ in range(2)]
    answers = await asyncio.gather(
        *(
            api.post(f"/api/v1/conversations/{c}/messages", json={"content": "race"}, headers=alice.headers)
            for c in (first, second)
        )
    )
    assert sorted(a.status_code for a in answers) == [202, 429]
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    loser = first if answers[0].status_code == 429 else second
    branch = (await api.get(f"/api/v1/conversations/{loser}/messages", headers=alice.headers)).json()
    assert branch["items"] == []  # nothing stored for the refused post
