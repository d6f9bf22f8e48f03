"""Reading messages end to end on real PostgreSQL: a conversation's selected branch or a given
one, each message with its siblings; switching branch; one message. Messages are written
through the domain and repositories here (posting them over HTTP is another issue's)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
import sqlalchemy as sa

from chat.domain.messages import Message
from shared.kernel.ai import Usage
from shared.kernel.clock import SystemClock
from shared.kernel.ids import new_id

BASE = "/api/v1/conversations"
_CLOCK = SystemClock()


class Tree:
    """q1 → r1 → q2 → r2, and q1 edited into q1b → r1b (selected, the newest)."""

    def __init__(self, conversation_id: str, messages: dict[str, Message]) -> None:
        self.conversation_id = conversation_id
        self.m = messages

    def id(self, name: str) -> str:
        return str(self.m[name].id)


async def a_branched_conversation(api, who, uow) -> Tree:
    answer = await api.post(BASE, json={"title": "Branches"}, headers=who.headers)
    assert answer.status_code == 201, answer.text
    conversation_id = UUID(answer.json()["id"])
    now = _CLOCK.now()

    def at(step: int):
        return now + timedelta(seconds=step)

    async with uow() as work:
        conversation = await work.conversations.get(conversation_id, who.user_id, for_update=True)
        m: dict[str, Message] = {}
        m["q1"] = conversation.post(id=new_id(), content="What next?", parent=None, now=at(0))
        m["r1"] = conversation.start_reply(id=new_id(), to=m["q1"], now=at(1))
        m["r1"].complete(content="Write tests.", usage=Usage(prompt_tokens=7, completion_tokens=3), now=at(2))
        m["q2"] = conversation.post(id=new_id(), content="Which ones?", parent=m["r1"], now=at(3))
        m["r2"] = conversation.start_reply(id=new_id(), to=m["q2"], now=at(4))
        m["r2"].fail(reason="model timed out", content="Unit tes", now=at(5))
        m["q1b"] = conversation.edit(id=new_id(), original=m["q1"], content="What first?", now=at(6))
        m["r1b"] = conversation.start_reply(id=new_id(), to=m["q1b"], now=at(7))
        m["r1b"].complete(content="Plan.", usage=Usage(prompt_tokens=5, completion_tokens=1), now=at(8))
        for message in m.values():
            await work.messages.add(message)
        await work.conversations.update(conversation)
        await work.commit()
    return Tree(str(conversation_id), m)


async def branch(api, who, tree: Tree, query: str = "") -> dict:
    answer = await api.get(f"{BASE}/{tree.conversation_id}/messages{query}", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def problem(answer, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return answer.json()


async def test_an_empty_conversation_has_an_empty_branch(api, caller):
    alice = caller()
    created = (await api.post(BASE, json={}, headers=alice.headers)).json()
    answer = await api.get(f"{BASE}/{created['id']}/messages", headers=alice.headers)
    assert answer.json() == {
        "conversation_id": created["id"],
        "leaf_id": None,
        "selected_leaf_id": None,
        "items": [],
    }


async def test_the_selected_branch_comes_root_first_with_each_messages_siblings(api, caller, uow):
    alice = caller()
    tree = await a_branched_conversation(api, alice, uow)
    read = await branch(api, alice, tree)
    assert (read["leaf_id"], read["selected_leaf_id"]) == (tree.id("r1b"), tree.id("r1b"))
    assert [item["id"] for item in read["items"]] == [tree.id("q1b"), tree.id("r1b")]
    first, reply = read["items"]
    assert first["sibling_ids"] == [tree.id("q1"), tree.id("q1b")]
    assert first["sibling_index"] == 1
    assert (reply["sibling_ids"], reply["sibling_index"]) == ([tree.id("r1b")], 0)
    assert reply == {
        "id": tree.id("r1b"),
        "conversation_id": tree.conversation_id,
        "parent_id": tree.id("q1b"),
        "sender": "assistant",
        "content": "Plan.",
        "status": "completed",
        "model_id": None,
        "metadata": {},
        "usage": {"prompt_tokens": 5, "completion_tokens": 1},
        "created_at": reply["created_at"],
        "finished_at": reply["finished_at"],
        "sibling_ids": [tree.id("r1b")],
        "sibling_index": 0,
    }
    assert reply["finished_at"] is not None
    assert first["finished_at"] is None


async def test_a_given_leaf_or_inner_message_reads_that_branch_down_to_its_newest_leaf(api, caller, uow):
    alice = caller()
    tree = await a_branched_conversation(api, alice, uow)
    old_branch = [tree.id(n) for n in ("q1", "r1", "q2", "r2")]
    for through in ("r2", "q2", "q1"):
        read = await branch(api, alice, tree, f"?leaf_id={tree.id(through)}")
        assert [item["id"] for item in read["items"]] == old_branch, through
        assert read["leaf_id"] == tree.id("r2")
        assert read["selected_leaf_id"] == tree.id("r1b")  # reading does not select
    failed = read["items"][-1]
    assert (failed["status"], failed["content"], failed["metadata"]) == (
        "failed",
        "Unit tes",
        {"error": "model timed out"},
    )
    assert read["items"][0]["sibling_index"] == 0


async def test_selecting_a_branch_remembers_it(api, caller, uow):
    alice = caller()
    tree = await a_branched_conversation(api, alice, uow)
    path = f"{BASE}/{tree.conversation_id}/select"
    answer = await api.post(path, json={"leaf_id": tree.id("q1")}, headers=alice.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["selected_leaf_id"] == tree.id("r2")
    assert [item["id"] for item in answer.json()["items"]][-1] == tree.id("r2")
    assert (await branch(api, alice, tree))["leaf_id"] == tree.id("r2")
    conversation = (await api.get(f"{BASE}/{tree.conversation_id}", headers=alice.headers)).json()
    assert conversation["selected_leaf_id"] == tree.id("r2")

    back = await api.post(path, json={"leaf_id": tree.id("r1b")}, headers=alice.headers)
    assert back.json()["leaf_id"] == tree.id("r1b")
    assert [item["id"] for item in (await branch(api, alice, tree))["items"]] == [
        tree.id("q1b"),
        tree.id("r1b"),
    ]


async def test_a_leaf_from_another_conversation_or_nowhere_is_a_422_changing_nothing(api, caller, uow):
    alice = caller()
    tree = await a_branched_conversation(api, alice, uow)
    other = await a_branched_conversation(api, alice, uow)
    for leaf in (other.id("q1"), str(new_id())):
        answer = await api.post(
            f"{BASE}/{tree.conversation_id}/select", json={"leaf_id": leaf}, headers=alice.headers
        )
        assert problem(answer, 422)["errors"][0]["field"] == "$.leaf_id"
        answer = await api.get(
            f"{BASE}/{tree.conversation_id}/messages?leaf_id={leaf}", headers=alice.headers
        )
        assert problem(answer, 422)["errors"][0]["field"] == "$.query.leaf_id"
    assert (await branch(api, alice, tree))["selected_leaf_id"] == tree.id("r1b")


@pytest.mark.parametrize(
    "body", [{}, {"leaf_id": "nope"}, {"leaf_id": None}, {"leaf_id": 1}, {"leaf_id": "x", "more": 1}, []]
)
async def test_hostile_select_bodies_are_400(api, caller, uow, body):
    alice = caller()
    tree = await a_branched_conversation(api, alice, uow)
    answer = await api.post(f"{BASE}/{tree.conversation_id}/select", json=body, headers=alice.headers)
    problem(answer, 400)


async def test_a_bad_leaf_id_query_is_a_400(api, caller, uow):
    alice = caller()
    tree = await a_branched_conversation(api, alice, uow)
    problem(await api.get(f"{BASE}/{tree.conversation_id}/messages?leaf_id=12", headers=alice.headers), 400)


async def test_one_message_reads_with_its_siblings(api, caller, uow):
    alice = caller()
    tree = await a_branched_conversation(api, alice, uow)
    answer = await api.get(f"/api/v1/messages/{tree.id('q1')}", headers=alice.headers)
    assert answer.status_code == 200, answer.text
    one = answer.json()
    assert (one["content"], one["sender"], one["parent_id"]) == ("What next?", "user", None)
    assert (one["sibling_ids"], one["sibling_index"]) == ([tree.id("q1"), tree.id("q1b")], 0)
    reply = (await api.get(f"/api/v1/messages/{tree.id('r1')}", headers=alice.headers)).json()
    assert (reply["usage"], reply["sibling_ids"]) == (
        {"prompt_tokens": 7, "completion_tokens": 3},
        [tree.id("r1")],
    )
    problem(await api.get(f"/api/v1/messages/{new_id()}", headers=alice.headers), 404)


async def test_another_user_gets_404_on_every_message_route(api, caller, uow):
    alice, bob = caller(), caller()
    tree = await a_branched_conversation(api, alice, uow)
    problem(await api.get(f"{BASE}/{tree.conversation_id}/messages", headers=bob.headers), 404)
    problem(
        await api.get(f"{BASE}/{tree.conversation_id}/messages?leaf_id={tree.id('q1')}", headers=bob.headers),
        404,
    )
    answer = await api.post(
        f"{BASE}/{tree.conversation_id}/select", json={"leaf_id": tree.id("q1")}, headers=bob.headers
    )
    problem(answer, 404)
    problem(await api.get(f"/api/v1/messages/{tree.id('r1')}", headers=bob.headers), 404)
    assert (await branch(api, alice, tree))["selected_leaf_id"] == tree.id("r1b")


async def test_a_branch_is_read_with_one_query_over_messages_however_many(api, caller, uow):
    alice = caller()
    tree = await a_branched_conversation(api, alice, uow)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        read = await branch(api, alice, tree, f"?leaf_id={tree.id('q1')}")
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert len(read["items"]) == 4
    assert len([s for s in statements if "FROM messages" in s]) == 1
