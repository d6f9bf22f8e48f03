"""Versioned prompts over HTTP, on real PostgreSQL: generation from an interview, edits, history,
diff, labels and optimistic concurrency."""

from __future__ import annotations

import asyncio
import base64

import pytest
from services.orchestrator.tests.integration.interview_steps import (
    completed_interview,
    new_interview,
    new_project,
)
from sqlalchemy import text

pytestmark = pytest.mark.asyncio


async def new_prompt(api, who, project_id, content="Line one\nLine two\n", title="Spec") -> dict:
    answer = await api.post(
        f"/api/v1/projects/{project_id}/prompts",
        json={"title": title, "content": content},
        headers=who.headers,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def edit(api, who, prompt_id, content, if_match=None, **body):
    headers = dict(who.headers)
    if if_match is not None:
        headers["If-Match"] = if_match
    return await api.post(
        f"/api/v1/prompts/{prompt_id}/versions", json={"content": content, **body}, headers=headers
    )


async def test_the_whole_flow_interview_to_prompt_v1_edit_v2_stale_edit_and_diff(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    interview = (await completed_interview(api, alice, project_id))["interview"]

    generated = await api.post(
        f"/api/v1/projects/{project_id}/prompts/generate",
        json={"interview_id": interview["id"]},
        headers=alice.headers,
    )
    assert generated.status_code == 201, generated.text
    v1 = generated.json()
    assert generated.headers["etag"] == '"1"'
    assert v1["version"] == 1
    assert v1["interview_id"] == interview["id"]
    assert v1["labels"] == ["current"]
    assert "Ten sales in the first month." in v1["content"]
    assert v1["content"].startswith("# Requirements: Shop")

    v2 = await edit(api, alice, v1["id"], v1["content"] + "- Gift wrapping.\n", if_match='"1"')
    stale = await edit(api, alice, v1["id"], "someone else's edit\n", if_match='"1"')
    diff = await api.get(f"/api/v1/prompts/{v1['id']}/diff?from=1&to=2", headers=alice.headers)

    assert v2.status_code == 201, v2.text
    assert v2.headers["etag"] == '"2"'
    assert (v2.json()["version"], v2.json()["parent_id"], v2.json()["lineage_id"]) == (2, v1["id"], v1["id"])
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert diff.status_code == 200
    assert diff.json()["added"] == 1
    assert diff.json()["removed"] == 0
    assert diff.json()["diff"].startswith("--- v1\n+++ v2\n")
    assert "+- Gift wrapping.\n" in diff.json()["diff"]


async def test_two_editors_with_the_same_if_match_one_wins_the_other_gets_412(api, caller):
    alice = caller()
    v1 = await new_prompt(api, alice, await new_project(api, alice))

    answers = await asyncio.gather(
        edit(api, alice, v1["id"], "first editor\n", if_match='"1"'),
        edit(api, alice, v1["id"], "second editor\n", if_match='"1"'),
    )

    assert sorted(a.status_code for a in answers) == [201, 412]
    history = (await api.get(f"/api/v1/prompts/{v1['id']}/versions", headers=alice.headers)).json()
    assert [v["version"] for v in history["items"]] == [2, 1]


async def test_edits_without_if_match_are_numbered_one_after_the_other(api, caller):
    alice = caller()
    v1 = await new_prompt(api, alice, await new_project(api, alice))

    answers = await asyncio.gather(*(edit(api, alice, v1["id"], f"edit {n}\n") for n in range(4)))

    assert sorted(a.json()["version"] for a in answers) == [2, 3, 4, 5]


async def test_editing_an_old_version_makes_it_the_parent_of_the_next(api, caller):
    alice = caller()
    v1 = await new_prompt(api, alice, await new_project(api, alice))
    v2 = (await edit(api, alice, v1["id"], "two\n")).json()

    v3 = await edit(api, alice, v1["id"], "back from one\n", if_match='"2"', title="Spec again")

    assert v3.json()["version"] == 3
    assert v3.json()["parent_id"] == v1["id"]
    assert v3.json()["title"] == "Spec again"
    read_v2 = await api.get(f"/api/v1/prompts/{v2['id']}", headers=alice.headers)
    assert read_v2.headers["etag"] == '"2"'
    assert read_v2.json()["content"] == "two\n"
    assert read_v2.json()["latest_version"] == 3


async def test_labels_move_explicitly_and_moving_current_back_is_the_rollback(api, caller, service_engine):
    alice = caller()
    v1 = await new_prompt(api, alice, await new_project(api, alice))
    v2 = (await edit(api, alice, v1["id"], "two\n")).json()
    base = f"/api/v1/prompts/{v1['id']}/labels"

    assert v2["labels"] == []  # a new version moves no label
    forward = await api.put(f"{base}/current", json={"version": 2}, headers=alice.headers)
    production = await api.put(f"{base}/production", json={"version": 2}, headers=alice.headers)
    rollback = await api.put(f"{base}/current", json={"version": 1}, headers=alice.headers)
    current = await api.get(f"{base}/current", headers=alice.headers)

    assert forward.json()["labels"] == {"current": 2}
    assert production.json()["labels"] == {"current": 2, "production": 2}
    assert rollback.json()["labels"] == {"current": 1, "production": 2}
    assert current.json()["id"] == v1["id"]
    assert current.json()["labels"] == ["current"]
    async with service_engine.connect() as conn:
        types = (await conn.execute(text("SELECT event_type FROM outbox ORDER BY id"))).scalars().all()
    assert types.count("aiorch.orchestrator.prompt.label_moved.v1") == 3
    assert types.count("aiorch.orchestrator.prompt.created.v1") == 2


async def test_label_refusals(api, caller):
    alice = caller()
    v1 = await new_prompt(api, alice, await new_project(api, alice))
    base = f"/api/v1/prompts/{v1['id']}/labels"

    no_version = await api.put(f"{base}/production", json={"version": 9}, headers=alice.headers)
    bad_name = await api.put(f"{base}/Not%20A%20Label", json={"version": 1}, headers=alice.headers)
    remove_current = await api.delete(f"{base}/current", headers=alice.headers)
    unknown = await api.get(f"{base}/staging", headers=alice.headers)

    assert no_version.status_code == 404
    assert bad_name.status_code == 400
    assert remove_current.status_code == 409
    assert unknown.status_code == 404


async def test_a_diff_names_a_missing_version_with_a_404(api, caller):
    alice = caller()
    v1 = await new_prompt(api, alice, await new_project(api, alice))

    missing = await api.get(f"/api/v1/prompts/{v1['id']}/diff?from=1&to=7", headers=alice.headers)
    same = await api.get(f"/api/v1/prompts/{v1['id']}/diff?from=1&to=1", headers=alice.headers)

    assert missing.status_code == 404
    assert same.json()["diff"] == ""


async def test_generating_from_an_interview_not_completed_is_a_409(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    interview = await new_interview(api, alice, project_id)

    answer = await api.post(
        f"/api/v1/projects/{project_id}/prompts/generate",
        json={"interview_id": interview["id"]},
        headers=alice.headers,
    )

    assert answer.status_code == 409


async def test_the_projects_prompts_list_their_latest_version_and_labels(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    first = await new_prompt(api, alice, project_id, title="First")
    second = await new_prompt(api, alice, project_id, title="Second")
    await edit(api, alice, first["id"], "edited\n", title="First, edited")

    page = (await api.get(f"/api/v1/projects/{project_id}/prompts", headers=alice.headers)).json()

    assert [(p["lineage_id"], p["latest"]["version"]) for p in page["items"]] == [
        (second["id"], 1),
        (first["id"], 2),
    ]
    assert page["items"][1]["latest"]["title"] == "First, edited"
    assert page["items"][1]["labels"] == {"current": 1}


async def test_deleting_a_prompt_deletes_every_version(api, caller):
    alice = caller()
    v1 = await new_prompt(api, alice, await new_project(api, alice))
    v2 = (await edit(api, alice, v1["id"], "two\n")).json()

    deleted = await api.delete(f"/api/v1/prompts/{v2['id']}", headers=alice.headers)

    assert deleted.status_code == 204
    assert (await api.get(f"/api/v1/prompts/{v1['id']}", headers=alice.headers)).status_code == 404
    assert (await api.get(f"/api/v1/prompts/{v2['id']}", headers=alice.headers)).status_code == 404


async def test_another_users_prompt_is_not_found_on_every_route(api, caller):
    alice, mallory = caller(), caller()
    project_id = await new_project(api, alice)
    v1 = await new_prompt(api, alice, project_id)
    interview = await new_interview(api, alice, project_id)
    base = f"/api/v1/prompts/{v1['id']}"
    as_mallory = {"headers": mallory.headers}

    answers = [
        await api.get(base, **as_mallory),
        await api.post(f"{base}/versions", json={"content": "mine now"}, **as_mallory),
        await api.get(f"{base}/versions", **as_mallory),
        await api.get(f"{base}/diff?from=1&to=1", **as_mallory),
        await api.get(f"{base}/labels/current", **as_mallory),
        await api.put(f"{base}/labels/current", json={"version": 1}, **as_mallory),
        await api.delete(f"{base}/labels/current", **as_mallory),
        await api.delete(base, **as_mallory),
        await api.get(f"/api/v1/projects/{project_id}/prompts", **as_mallory),
        await api.post(
            f"/api/v1/projects/{project_id}/prompts", json={"title": "t", "content": "c"}, **as_mallory
        ),
        await api.post(
            f"/api/v1/projects/{project_id}/prompts/generate",
            json={"interview_id": interview["id"]},
            **as_mallory,
        ),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert (await api.get(f"{base}/versions", headers=alice.headers)).json()["items"][0]["version"] == 1


async def test_history_pages_follow_their_cursor_and_a_forged_one_is_a_400(api, caller):
    alice = caller()
    v1 = await new_prompt(api, alice, await new_project(api, alice))
    for n in range(2):
        await edit(api, alice, v1["id"], f"edit {n}\n")
    base = f"/api/v1/prompts/{v1['id']}/versions"

    first = (await api.get(f"{base}?limit=2", headers=alice.headers)).json()
    rest = (await api.get(f"{base}?limit=2&cursor={first['next_cursor']}", headers=alice.headers)).json()
    huge = base64.urlsafe_b64encode(b"100000000000000000000").rstrip(b"=").decode()
    forged = await api.get(f"{base}?cursor={huge}", headers=alice.headers)

    assert [v["version"] for v in first["items"] + rest["items"]] == [3, 2, 1]
    assert rest["next_cursor"] is None
    assert forged.status_code == 400
