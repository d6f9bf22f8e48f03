"""/api/v1/conversations end to end on real PostgreSQL (and NATS for the app): create with
checked links, list in keyset pages with filters, read, change, delete; another user's is a 404;
hostile input is a 4xx problem that changes nothing."""

from __future__ import annotations

from uuid import UUID

import pytest
import sqlalchemy as sa

from chat.adapters.postgres.tables import conversations
from shared.contracts.chat import decoder
from shared.kernel.ids import new_id
from shared.messaging.outbox_schema import outbox

BASE = "/api/v1/conversations"


async def create(api, who, **body) -> dict:
    answer = await api.post(BASE, json=body, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def listed(api, who, query: str = "") -> dict:
    answer = await api.get(f"{BASE}{query}", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def stored_count(engine, owner_id: UUID) -> int:
    async with engine.connect() as conn:
        query = (
            sa.select(sa.func.count()).select_from(conversations).where(conversations.c.owner_id == owner_id)
        )
        return (await conn.execute(query)).scalar_one()


async def events_about(engine, conversation_id: str) -> list[str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(outbox.c.payload).order_by(outbox.c.id))).scalars().all()
    decoded = [decoder.decode(payload) for payload in rows]
    return [type(e).__name__ for e in decoded if str(getattr(e, "conversation_id", "")) == conversation_id]


def problem(answer, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return answer.json()


# --- create ---------------------------------------------------------------------------------


async def test_a_new_conversation_is_empty_untitled_and_announced(api, caller, service_engine):
    alice = caller()
    created = await create(api, alice)
    assert created["title"] == ""
    assert created["title_source"] == "none"
    assert (created["messages_count"], created["selected_leaf_id"], created["pinned"]) == (0, None, False)
    assert (created["project_id"], created["task_id"], created["model_id"]) == (None, None, None)
    assert await events_about(service_engine, created["id"]) == ["ConversationCreated"]


async def test_a_title_is_kept_tidy_and_a_blank_one_leaves_it_untitled(api, caller):
    alice = caller()
    titled = await create(api, alice, title="  Plan   the release ")
    assert (titled["title"], titled["title_source"]) == ("Plan the release", "user")
    blank = await create(api, alice, title="   ")
    assert (blank["title"], blank["title_source"]) == ("", "none")


async def test_links_to_my_project_and_task_are_kept_and_a_task_alone_brings_its_project(
    api, caller, replica
):
    alice = caller()
    project = await replica.project(alice.user_id)
    task = await replica.task(alice.user_id, project)
    both = await create(api, alice, project_id=str(project), task_id=str(task))
    assert (both["project_id"], both["task_id"]) == (str(project), str(task))
    alone = await create(api, alice, task_id=str(task))
    assert (alone["project_id"], alone["task_id"]) == (str(project), str(task))


@pytest.mark.parametrize("field", ["project_id", "task_id"])
async def test_a_link_to_someone_elses_or_an_unknown_project_or_task_is_a_422_naming_it(
    api, caller, replica, service_engine, field
):
    alice, bob = caller(), caller()
    bobs_project = await replica.project(bob.user_id)
    bobs_task = await replica.task(bob.user_id, bobs_project)
    theirs = {"project_id": bobs_project, "task_id": bobs_task}[field]
    for target in (theirs, new_id()):
        body = problem(await api.post(BASE, json={field: str(target)}, headers=alice.headers), 422)
        assert body["errors"][0]["field"] == f"$.{field}"
    assert await stored_count(service_engine, alice.user_id) == 0


async def test_a_task_outside_the_given_project_is_a_422_on_task_id(api, caller, replica):
    alice = caller()
    first, second = await replica.project(alice.user_id), await replica.project(alice.user_id)
    task_of_second = await replica.task(alice.user_id, second)
    answer = await api.post(
        BASE, json={"project_id": str(first), "task_id": str(task_of_second)}, headers=alice.headers
    )
    assert problem(answer, 422)["errors"][0]["field"] == "$.task_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x" * 201}, "$.title"),
        ({"title": 5}, "$.title"),
        ({"model_id": "not-a-uuid"}, "$.model_id"),
        ({"project_id": "42"}, "$.project_id"),
        ({"owner_id": "00000000-0000-0000-0000-000000000000"}, "$.owner_id"),
        ({"pinned": True}, "$.pinned"),
    ],
)
async def test_hostile_bodies_are_400_problems_naming_the_field(api, caller, service_engine, body, field):
    alice = caller()
    answer = await api.post(BASE, json=body, headers=alice.headers)
    assert field in [e["field"] for e in problem(answer, 400)["errors"]]
    assert await stored_count(service_engine, alice.user_id) == 0


async def test_a_body_that_is_not_an_object_is_a_400(api, caller):
    alice = caller()
    for raw in (b"[]", b"nope", b'"title"'):
        answer = await api.post(
            BASE, content=raw, headers={**alice.headers, "content-type": "application/json"}
        )
        problem(answer, 400)


async def test_no_token_is_a_401(api):
    problem(await api.get(BASE), 401)
    problem(await api.post(BASE, json={}), 401)


# --- read, change, delete -------------------------------------------------------------------


async def test_get_patch_and_delete_act_on_my_conversation(api, caller, service_engine):
    alice = caller()
    created = await create(api, alice, title="Draft")
    path = f"{BASE}/{created['id']}"
    assert (await api.get(path, headers=alice.headers)).json() == created

    answer = await api.patch(path, json={"title": "Final", "pinned": True}, headers=alice.headers)
    assert answer.status_code == 200, answer.text
    changed = answer.json()
    assert (changed["title"], changed["pinned"], changed["archived"]) == ("Final", True, False)
    assert changed["last_activity_at"] == created["last_activity_at"]  # settings are not activity

    assert (await api.patch(path, json={"archived": True}, headers=alice.headers)).json()["archived"] is True
    # one event per request, none for a request that changes nothing
    assert (await api.patch(path, json={"archived": True}, headers=alice.headers)).status_code == 200
    assert await events_about(service_engine, created["id"]) == [
        "ConversationCreated",
        "ConversationUpdated",
        "ConversationUpdated",
    ]

    assert (await api.delete(path, headers=alice.headers)).status_code == 204
    problem(await api.get(path, headers=alice.headers), 404)
    problem(await api.delete(path, headers=alice.headers), 404)
    assert (await events_about(service_engine, created["id"]))[-1] == "ConversationDeleted"


async def test_patch_relinks_and_null_unlinks(api, caller, replica, uow):
    alice = caller()
    project, other = await replica.project(alice.user_id), await replica.project(alice.user_id)
    task = await replica.task(alice.user_id, project)
    created = await create(api, alice)
    path = f"{BASE}/{created['id']}"

    async def patch(body: dict) -> dict:
        answer = await api.patch(path, json=body, headers=alice.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    linked = await patch({"task_id": str(task)})
    assert (linked["project_id"], linked["task_id"]) == (str(project), str(task))
    retitled = await patch({"title": "Still linked"})
    assert (retitled["project_id"], retitled["task_id"]) == (str(project), str(task))
    task_only = await patch({"task_id": None})
    assert (task_only["project_id"], task_only["task_id"]) == (str(project), None)
    await patch({"task_id": str(task)})
    moved = await patch({"project_id": str(other)})
    assert (moved["project_id"], moved["task_id"]) == (str(other), None)
    unlinked = await patch({"project_id": None})
    assert (unlinked["project_id"], unlinked["task_id"]) == (None, None)
    model = await an_enabled_model(uow)
    assert (await patch({"model_id": str(model)}))["model_id"] == str(model)
    assert (await patch({"model_id": None}))["model_id"] is None
    unknown = await api.patch(path, json={"model_id": str(new_id())}, headers=alice.headers)
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"][0]["field"] == "$.model_id"
    refused = await api.post(BASE, json={"model_id": str(new_id())}, headers=alice.headers)
    assert refused.status_code == 422, refused.text


async def an_enabled_model(uow):
    """A model in chat's registry replica, as orchestrator's ai_model.created would put it."""
    from datetime import UTC, datetime

    from chat.application.ports.replicas import ModelReplica

    model_id = new_id()
    async with uow() as work:
        await work.models.save(
            ModelReplica(
                id=model_id,
                name=f"m-{model_id}",
                provider="openai",
                base_url="https://api.example.com/v1",
                model="gpt",
                parameters={},
                enabled=True,
                is_default=False,
                sealed_api_key=None,
                changed_at=datetime.now(UTC),
            )
        )
        await work.commit()
    return model_id


async def test_patch_refuses_bad_links_and_bad_fields_changing_nothing(api, caller, replica):
    alice, bob = caller(), caller()
    bobs = await replica.project(bob.user_id)
    mine = await replica.project(alice.user_id)
    task = await replica.task(alice.user_id, mine)
    created = await create(api, alice, title="Kept")
    path = f"{BASE}/{created['id']}"
    for body, status, field in (
        ({"project_id": str(bobs)}, 422, "$.project_id"),
        ({"project_id": None, "task_id": str(task)}, 422, "$.task_id"),
        ({"task_id": str(new_id())}, 422, "$.task_id"),
        ({"title": ""}, 400, "$.title"),
        ({"title": "y" * 201}, 400, "$.title"),
        ({"pinned": "yes"}, 400, "$.pinned"),
        ({"messages_count": 9}, 400, "$.messages_count"),
    ):
        answer = await api.patch(path, json={**body, "archived": True}, headers=alice.headers)
        assert field in [e["field"] for e in problem(answer, status)["errors"]], body
    assert (await api.get(path, headers=alice.headers)).json() == created


async def test_a_blank_title_in_a_patch_is_a_400(api, caller):
    alice = caller()
    created = await create(api, alice)
    problem(await api.patch(f"{BASE}/{created['id']}", json={"title": "   "}, headers=alice.headers), 400)


async def test_another_users_conversation_is_a_404_on_every_route(api, caller):
    alice, bob = caller(), caller()
    created = await create(api, alice, title="Private")
    path = f"{BASE}/{created['id']}"
    problem(await api.get(path, headers=bob.headers), 404)
    problem(await api.patch(path, json={"title": "Mine now"}, headers=bob.headers), 404)
    problem(await api.delete(path, headers=bob.headers), 404)
    assert (await listed(api, bob))["items"] == []
    assert (await api.get(path, headers=alice.headers)).json() == created


async def test_bad_ids_are_4xx(api, caller):
    alice = caller()
    assert (await api.get(f"{BASE}/not-a-uuid", headers=alice.headers)).status_code in (400, 404)
    problem(await api.get(f"{BASE}/{new_id()}", headers=alice.headers), 404)


# --- the list -------------------------------------------------------------------------------


async def test_the_list_pages_newest_activity_first_with_a_cursor(api, caller):
    alice = caller()
    made = [(await create(api, alice, title=f"c{i}"))["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = await listed(api, alice, query)
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    assert pages == 3


async def test_the_list_filters_archived_pinned_project_and_task(api, caller, replica):
    alice = caller()
    project = await replica.project(alice.user_id)
    task = await replica.task(alice.user_id, project)
    plain = await create(api, alice)
    pinned = await create(api, alice)
    archived = await create(api, alice)
    on_project = await create(api, alice, project_id=str(project))
    on_task = await create(api, alice, task_id=str(task))
    await api.patch(f"{BASE}/{pinned['id']}", json={"pinned": True}, headers=alice.headers)
    await api.patch(f"{BASE}/{archived['id']}", json={"archived": True}, headers=alice.headers)

    async def ids(query: str) -> set[str]:
        return {item["id"] for item in (await listed(api, alice, query))["items"]}

    assert await ids("") == {plain["id"], pinned["id"], on_project["id"], on_task["id"]}
    assert await ids("?archived=true") == {archived["id"]}
    assert await ids("?pinned=true") == {pinned["id"]}
    assert await ids("?pinned=false") == {plain["id"], on_project["id"], on_task["id"]}
    assert await ids(f"?project_id={project}") == {on_project["id"], on_task["id"]}
    assert await ids(f"?task_id={task}") == {on_task["id"]}


@pytest.mark.parametrize(
    "query",
    [
        "?limit=0",
        "?limit=101",
        "?limit=ten",
        "?cursor=%%%",
        "?cursor=bm9wZQ",  # base64 of "nope"
        "?cursor=" + "A" * 600,
        "?pinned=perhaps",
        "?project_id=12",
    ],
)
async def test_bad_list_parameters_are_400_problems(api, caller, query):
    alice = caller()
    problem(await api.get(f"{BASE}{query}", headers=alice.headers), 400)
