"""Projects over HTTP, and the board's access rules: owners only, archived projects read-only."""

from __future__ import annotations

import msgspec
import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.asyncio


async def new_project(api, who, name="P") -> dict:
    answer = await api.post("/api/v1/projects", json={"name": name, "description": "d"}, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_a_new_project_is_active_and_empty(api, caller):
    alice = caller()
    project = await new_project(api, alice, "Shop")
    assert project["status"] == "active"
    assert project["name"] == "Shop"
    assert project["counts"] == {
        "tasks": {"backlog": 0, "todo": 0, "in_progress": 0, "review": 0, "done": 0},
        "total_tasks": 0,
        "prompts": 0,
        "interviews": 0,
    }


async def test_my_projects_are_listed_newest_first_page_by_page_and_filtered_by_status(api, caller):
    alice, bob = caller(), caller()
    names = [(await new_project(api, alice, f"P{i}"))["name"] for i in range(3)]
    await new_project(api, bob, "Bob's")
    first = (await api.get("/api/v1/projects?limit=2", headers=alice.headers)).json()
    second = (
        await api.get(f"/api/v1/projects?limit=2&cursor={first['next_cursor']}", headers=alice.headers)
    ).json()

    assert [p["name"] for p in first["items"] + second["items"]] == names[::-1]
    assert second["next_cursor"] is None

    archived = (await api.get("/api/v1/projects", headers=alice.headers)).json()["items"][0]["id"]
    await api.post(f"/api/v1/projects/{archived}/archive", headers=alice.headers)
    only = (await api.get("/api/v1/projects?status=archived", headers=alice.headers)).json()["items"]
    assert [p["id"] for p in only] == [archived]


async def test_list_items_carry_each_projects_counts(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    for status in ("todo", "todo", "done"):
        await api.post(
            f"/api/v1/projects/{project['id']}/tasks",
            json={"title": "t", "status": status},
            headers=alice.headers,
        )
    await api.post(
        f"/api/v1/projects/{project['id']}/prompts",
        json={"title": "p", "content": "c"},
        headers=alice.headers,
    )

    listed = (await api.get("/api/v1/projects", headers=alice.headers)).json()["items"][0]

    assert listed["counts"]["tasks"]["todo"] == 2
    assert listed["counts"]["tasks"]["done"] == 1
    assert listed["counts"]["total_tasks"] == 3
    assert listed["counts"]["prompts"] == 1


async def test_a_project_is_renamed_and_its_deletion_takes_its_tasks(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    renamed = await api.patch(
        f"/api/v1/projects/{project['id']}", json={"name": "New"}, headers=alice.headers
    )
    task = (
        await api.post(f"/api/v1/projects/{project['id']}/tasks", json={"title": "t"}, headers=alice.headers)
    ).json()

    assert renamed.json()["name"] == "New"
    assert renamed.json()["description"] == "d"
    assert (await api.delete(f"/api/v1/projects/{project['id']}", headers=alice.headers)).status_code == 204
    assert (await api.get(f"/api/v1/projects/{project['id']}", headers=alice.headers)).status_code == 404
    assert (await api.get(f"/api/v1/tasks/{task['id']}", headers=alice.headers)).status_code == 404


async def test_an_archived_project_refuses_writes_to_it_and_its_tasks_with_409_until_unarchived(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    pid = project["id"]
    task = (
        await api.post(f"/api/v1/projects/{pid}/tasks", json={"title": "t"}, headers=alice.headers)
    ).json()
    archived = await api.post(f"/api/v1/projects/{pid}/archive", headers=alice.headers)
    assert archived.json()["status"] == "archived"
    assert archived.json()["archived_at"] is not None

    writes = [
        await api.patch(f"/api/v1/projects/{pid}", json={"name": "x"}, headers=alice.headers),
        await api.post(f"/api/v1/projects/{pid}/tasks", json={"title": "t"}, headers=alice.headers),
        await api.patch(f"/api/v1/tasks/{task['id']}", json={"title": "x"}, headers=alice.headers),
        await api.post(f"/api/v1/tasks/{task['id']}/move", json={"status": "done"}, headers=alice.headers),
        await api.put(
            f"/api/v1/tasks/{task['id']}/dependencies", json={"dependencies": []}, headers=alice.headers
        ),
        await api.delete(f"/api/v1/tasks/{task['id']}", headers=alice.headers),
    ]

    assert [w.status_code for w in writes] == [409] * len(writes)
    board = await api.get(f"/api/v1/projects/{pid}/tasks", headers=alice.headers)
    assert board.status_code == 200
    assert board.json()["archived"] is True
    await api.post(f"/api/v1/projects/{pid}/unarchive", headers=alice.headers)
    moved = await api.post(f"/api/v1/tasks/{task['id']}/move", json={"status": "done"}, headers=alice.headers)
    assert moved.status_code == 200


async def test_another_users_project_and_tasks_are_404_on_every_route(api, caller):
    alice, mallory = caller(), caller()
    pid = (await new_project(api, alice))["id"]
    tid = (
        await api.post(f"/api/v1/projects/{pid}/tasks", json={"title": "t"}, headers=alice.headers)
    ).json()["id"]
    h = mallory.headers

    answers = {
        "get project": await api.get(f"/api/v1/projects/{pid}", headers=h),
        "patch project": await api.patch(f"/api/v1/projects/{pid}", json={"name": "x"}, headers=h),
        "archive": await api.post(f"/api/v1/projects/{pid}/archive", headers=h),
        "unarchive": await api.post(f"/api/v1/projects/{pid}/unarchive", headers=h),
        "board": await api.get(f"/api/v1/projects/{pid}/tasks", headers=h),
        "create task": await api.post(f"/api/v1/projects/{pid}/tasks", json={"title": "t"}, headers=h),
        "next task": await api.get(f"/api/v1/projects/{pid}/next-task", headers=h),
        "generate": await api.post(
            f"/api/v1/projects/{pid}/tasks/generate", json={"prompt_id": tid, "num_tasks": 1}, headers=h
        ),
        "get task": await api.get(f"/api/v1/tasks/{tid}", headers=h),
        "patch task": await api.patch(f"/api/v1/tasks/{tid}", json={"title": "x"}, headers=h),
        "move": await api.post(f"/api/v1/tasks/{tid}/move", json={"status": "done"}, headers=h),
        "dependencies": await api.put(
            f"/api/v1/tasks/{tid}/dependencies", json={"dependencies": []}, headers=h
        ),
        "activity": await api.get(f"/api/v1/tasks/{tid}/activity", headers=h),
        "delete task": await api.delete(f"/api/v1/tasks/{tid}", headers=h),
        "delete project": await api.delete(f"/api/v1/projects/{pid}", headers=h),
    }

    assert {name: a.status_code for name, a in answers.items() if a.status_code != 404} == {}
    assert (await api.get(f"/api/v1/tasks/{tid}", headers=alice.headers)).json()["version"] == 1


async def test_bad_input_is_a_problem_with_the_field_and_changes_nothing(api, caller):
    alice = caller()
    pid = (await new_project(api, alice))["id"]
    answers = [
        await api.post("/api/v1/projects", json={"name": ""}, headers=alice.headers),
        await api.post("/api/v1/projects", json={"name": "x", "owner_id": "me"}, headers=alice.headers),
        await api.post(
            f"/api/v1/projects/{pid}/tasks", json={"title": "t", "status": "later"}, headers=alice.headers
        ),
        await api.post(f"/api/v1/projects/{pid}/tasks", json={"title": "x" * 201}, headers=alice.headers),
        await api.get("/api/v1/projects?cursor=nonsense", headers=alice.headers),
    ]
    assert [a.status_code for a in answers] == [400] * len(answers)
    assert all(a.headers["content-type"].startswith("application/problem+json") for a in answers)
    board = (await api.get(f"/api/v1/projects/{pid}/tasks", headers=alice.headers)).json()
    assert sum(len(c["tasks"]) for c in board["columns"]) == 0


async def test_creation_changes_and_deletion_are_announced(api, caller, service_engine):
    alice = caller()
    pid = (await new_project(api, alice, "Shop"))["id"]
    await api.patch(f"/api/v1/projects/{pid}", json={"name": "Store"}, headers=alice.headers)
    await api.post(f"/api/v1/projects/{pid}/archive", headers=alice.headers)
    await api.post(f"/api/v1/projects/{pid}/archive", headers=alice.headers)  # already archived: no event
    await api.delete(f"/api/v1/projects/{pid}", headers=alice.headers)

    async with service_engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT payload FROM outbox ORDER BY id"))).all()
    events = [msgspec.json.decode(row.payload) for row in rows]
    mine = [e for e in events if e["type"].startswith("aiorch.orchestrator.project.")]

    assert [(e["type"], e.get("name"), e.get("status")) for e in mine] == [
        ("aiorch.orchestrator.project.created.v1", "Shop", None),
        ("aiorch.orchestrator.project.updated.v1", "Store", "active"),
        ("aiorch.orchestrator.project.updated.v1", "Store", "archived"),
        ("aiorch.orchestrator.project.deleted.v1", None, None),
    ]
    assert {(e["project_id"], e["owner_id"]) for e in mine} == {(pid, str(alice.user_id))}
