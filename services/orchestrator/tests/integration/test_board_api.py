"""The board over HTTP, on real PostgreSQL: tasks, ordering keys, moves, dependencies, next task."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.asyncio


async def new_project(api, who, name="Board") -> str:
    answer = await api.post("/api/v1/projects", json={"name": name}, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


async def new_task(api, who, project_id, title, **fields) -> dict:
    answer = await api.post(
        f"/api/v1/projects/{project_id}/tasks", json={"title": title, **fields}, headers=who.headers
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def column(api, who, project_id, status) -> list[str]:
    board = (await api.get(f"/api/v1/projects/{project_id}/tasks", headers=who.headers)).json()
    return [card["title"] for c in board["columns"] if c["status"] == status for card in c["tasks"]]


async def test_tasks_go_to_the_end_of_their_column_or_next_to_a_neighbour(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    a = await new_task(api, alice, project, "A", status="todo")
    c = await new_task(api, alice, project, "C", status="todo")
    await new_task(api, alice, project, "B", status="todo", after_id=a["id"])
    await new_task(api, alice, project, "Z", status="todo", before_id=a["id"])
    await new_task(api, alice, project, "C2", status="todo", after_id=c["id"])

    assert await column(api, alice, project, "todo") == ["Z", "A", "B", "C", "C2"]


async def test_the_board_lists_every_column_even_empty_ones_and_counts_show_on_the_project(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    await new_task(api, alice, project, "One", status="review")

    board = (await api.get(f"/api/v1/projects/{project}/tasks", headers=alice.headers)).json()
    detail = (await api.get(f"/api/v1/projects/{project}", headers=alice.headers)).json()

    assert [c["status"] for c in board["columns"]] == ["backlog", "todo", "in_progress", "review", "done"]
    assert board["archived"] is False
    assert detail["counts"]["tasks"]["review"] == 1
    assert detail["counts"]["total_tasks"] == 1


async def test_a_move_changes_only_the_moved_tasks_key(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    tasks = [await new_task(api, alice, project, name, status="todo") for name in "ABCD"]
    before = {t["id"]: t["position"] for t in tasks}

    moved = await api.post(
        f"/api/v1/tasks/{tasks[3]['id']}/move",
        json={"status": "todo", "after_id": tasks[0]["id"]},
        headers={**alice.headers, "if-match": '"1"'},
    )

    assert moved.status_code == 200, moved.text
    assert moved.headers["etag"] == '"2"'
    assert await column(api, alice, project, "todo") == ["A", "D", "B", "C"]
    board = (await api.get(f"/api/v1/projects/{project}/tasks", headers=alice.headers)).json()
    after = {card["id"]: card["position"] for c in board["columns"] for card in c["tasks"]}
    assert {k: v for k, v in after.items() if v != before[k]} == {tasks[3]["id"]: moved.json()["position"]}


async def test_of_two_clients_moving_from_the_same_version_one_wins_and_the_other_gets_412_with_the_task(
    api, caller
):
    # the test client serialises the two requests; test_board_concurrency overlaps them for real
    alice = caller()
    project = await new_project(api, alice)
    task = await new_task(api, alice, project, "Contended", status="todo")
    headers = {**alice.headers, "if-match": '"1"'}

    answers = await asyncio.gather(
        api.post(f"/api/v1/tasks/{task['id']}/move", json={"status": "in_progress"}, headers=headers),
        api.post(f"/api/v1/tasks/{task['id']}/move", json={"status": "review"}, headers=headers),
    )

    assert sorted(a.status_code for a in answers) == [200, 412]
    won = next(a for a in answers if a.status_code == 200).json()
    lost = next(a for a in answers if a.status_code == 412)
    assert lost.headers["content-type"].startswith("application/problem+json")
    assert lost.json()["current"]["status"] == won["status"]
    assert lost.json()["current"]["version"] == 2
    assert lost.headers["etag"] == '"2"'


async def test_a_dependency_cycle_is_refused_with_409_naming_it(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    a, b, c = [await new_task(api, alice, project, name) for name in ("Design", "Build", "Ship")]
    for task, on in ((b, a), (c, b)):
        answer = await api.put(
            f"/api/v1/tasks/{task['id']}/dependencies",
            json={"dependencies": [on["id"]]},
            headers=alice.headers,
        )
        assert answer.status_code == 200, answer.text

    refused = await api.put(
        f"/api/v1/tasks/{a['id']}/dependencies", json={"dependencies": [c["id"]]}, headers=alice.headers
    )

    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert (
        f'"Design" ({a["id"]}) -> "Ship" ({c["id"]}) -> "Build" ({b["id"]}) -> "Design" ({a["id"]})' in detail
    )


async def test_a_dependency_on_another_projects_task_is_refused(api, caller):
    alice = caller()
    here, there = await new_project(api, alice, "Here"), await new_project(api, alice, "There")
    task = await new_task(api, alice, here, "Here")
    elsewhere = await new_task(api, alice, there, "There")

    answer = await api.put(
        f"/api/v1/tasks/{task['id']}/dependencies",
        json={"dependencies": [elsewhere["id"]]},
        headers=alice.headers,
    )
    created = await api.post(
        f"/api/v1/projects/{here}/tasks",
        json={"title": "X", "dependencies": [elsewhere["id"]]},
        headers=alice.headers,
    )

    assert answer.status_code == 400
    assert created.status_code == 400


async def test_next_task_is_the_highest_priority_ready_task_and_204_when_none_is_ready(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    assert (await api.get(f"/api/v1/projects/{project}/next-task", headers=alice.headers)).status_code == 204
    base = await new_task(api, alice, project, "Base", priority="low")
    await new_task(api, alice, project, "Urgent but blocked", priority="urgent", dependencies=[base["id"]])
    await new_task(api, alice, project, "High", priority="high")

    first = (await api.get(f"/api/v1/projects/{project}/next-task", headers=alice.headers)).json()
    await api.post(f"/api/v1/tasks/{base['id']}/move", json={"status": "done"}, headers=alice.headers)
    second = (await api.get(f"/api/v1/projects/{project}/next-task", headers=alice.headers)).json()

    assert first["title"] == "High"
    assert second["title"] == "Urgent but blocked"


async def test_a_stale_if_match_on_an_edit_is_412_and_changes_nothing(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    task = await new_task(api, alice, project, "Old")
    await api.patch(f"/api/v1/tasks/{task['id']}", json={"title": "New"}, headers=alice.headers)

    stale = await api.patch(
        f"/api/v1/tasks/{task['id']}", json={"title": "Mine"}, headers={**alice.headers, "if-match": '"1"'}
    )

    assert stale.status_code == 412
    assert stale.json()["current"]["title"] == "New"
    now = await api.get(f"/api/v1/tasks/{task['id']}", headers=alice.headers)
    assert now.json()["title"] == "New"
    assert now.headers["etag"] == '"2"'


async def test_activity_says_who_changed_what_from_what_to_what(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    task = await new_task(api, alice, project, "Old", status="todo")
    await api.patch(
        f"/api/v1/tasks/{task['id']}", json={"title": "New", "priority": "high"}, headers=alice.headers
    )
    await api.post(f"/api/v1/tasks/{task['id']}/move", json={"status": "done"}, headers=alice.headers)

    items = (await api.get(f"/api/v1/tasks/{task['id']}/activity", headers=alice.headers)).json()["items"]

    assert [(i["action"], i["field"], i["old"], i["new"]) for i in items] == [
        ("moved", "status", "todo", "done"),
        ("updated", "priority", "medium", "high"),
        ("updated", "title", "Old", "New"),
        ("created", None, None, "Old"),
    ]
    assert {i["actor_id"] for i in items} == {str(alice.user_id)}


async def test_deleting_a_task_removes_it_from_its_dependents(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    base = await new_task(api, alice, project, "Base")
    top = await new_task(api, alice, project, "Top", dependencies=[base["id"]])

    assert (await api.delete(f"/api/v1/tasks/{base['id']}", headers=alice.headers)).status_code == 204

    now = (await api.get(f"/api/v1/tasks/{top['id']}", headers=alice.headers)).json()
    assert now["dependencies"] == []
    assert now["version"] == 2


async def outbox(service_engine) -> list[dict]:
    async with service_engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT payload FROM outbox ORDER BY id"))).all()
    return [msgspec.json.decode(row.payload) for row in rows]


async def test_each_change_is_announced_with_the_tasks_coordinates_and_no_text(api, caller, service_engine):
    alice = caller()
    project = await new_project(api, alice)
    base = await new_task(api, alice, project, "Base", description="long text")
    top = await new_task(api, alice, project, "Top", dependencies=[base["id"]])
    await api.post(f"/api/v1/tasks/{top['id']}/move", json={"status": "review"}, headers=alice.headers)
    await api.delete(f"/api/v1/tasks/{base['id']}", headers=alice.headers)

    events = [e for e in await outbox(service_engine) if e["type"].startswith("aiorch.orchestrator.task.")]

    assert [(e["type"].split(".")[3], e["task_id"], e["version"]) for e in events] == [
        ("created", base["id"], 1),
        ("created", top["id"], 1),
        ("moved", top["id"], 2),
        ("deleted", base["id"], 1),
        ("updated", top["id"], 3),  # it no longer depends on the deleted task
    ]
    assert events[2]["from_status"] == "backlog"
    assert events[2]["status"] == "review"
    assert all(e["owner_id"] == str(alice.user_id) and e["project_id"] == project for e in events)
    assert not any("long text" in str(e) for e in events)


async def test_a_dependents_history_says_it_lost_a_deleted_dependency(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    base = await new_task(api, alice, project, "Base")
    top = await new_task(api, alice, project, "Top", dependencies=[base["id"]])

    await api.delete(f"/api/v1/tasks/{base['id']}", headers=alice.headers)

    latest = (await api.get(f"/api/v1/tasks/{top['id']}/activity", headers=alice.headers)).json()["items"][0]
    assert (latest["field"], latest["old"], latest["new"]) == ("dependencies", base["id"], None)


async def test_tasks_added_at_once_to_a_columns_end_get_distinct_keys_in_order(api, caller):
    alice = caller()
    project = await new_project(api, alice)

    created = await asyncio.gather(*(new_task(api, alice, project, f"T{i}", status="todo") for i in range(6)))

    positions = [t["position"] for t in created]
    assert len(set(positions)) == len(positions)
    assert sorted(await column(api, alice, project, "todo")) == sorted(t["title"] for t in created)


async def test_a_task_depending_on_itself_is_a_cycle_of_one(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    task = await new_task(api, alice, project, "Loop")

    refused = await api.put(
        f"/api/v1/tasks/{task['id']}/dependencies", json={"dependencies": [task["id"]]}, headers=alice.headers
    )

    assert refused.status_code == 409
    assert f'"Loop" ({task["id"]}) -> "Loop" ({task["id"]})' in refused.json()["detail"]
