"""Commits over HTTP on real PostgreSQL: validate, generate (offline model), record, read, changelog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


async def new_project(api, who, name="Shop") -> str:
    answer = await api.post("/api/v1/projects", json={"name": name}, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def new_task(api, who, project_id: str, title="Add the login page") -> str:
    answer = await api.post(
        f"/api/v1/projects/{project_id}/tasks", json={"title": title}, headers=who.headers
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def record(api, who, project_id: str, sha: str, message: str, **extra):
    body = {"sha": sha, "message": message, **extra}
    return await api.post(f"/api/v1/projects/{project_id}/commits", json=body, headers=who.headers)


def at(minutes: int) -> str:
    return (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)).isoformat()


async def test_validate_returns_every_violation_with_its_rule_and_level(api, caller):
    alice = caller()
    answer = await api.post(
        "/api/v1/commits/validate", json={"message": "Feat(API): Add things.\nbody"}, headers=alice.headers
    )
    assert answer.status_code == 200
    result = answer.json()
    assert result["valid"] is False
    found = {(v["rule"], v["level"]) for v in result["violations"]}
    assert {
        ("type-case", "error"),
        ("type-enum", "error"),
        ("scope-case", "error"),
        ("subject-case", "error"),
        ("subject-full-stop", "error"),
        ("body-leading-blank", "warning"),
    } <= found


async def test_validate_parses_a_valid_message_into_its_parts(api, caller):
    alice = caller()
    message = "feat(api)!: drop v0\n\nWhy it goes.\n\nBREAKING CHANGE: v0 clients break\nRefs: #4"
    result = (
        await api.post("/api/v1/commits/validate", json={"message": message}, headers=alice.headers)
    ).json()
    assert result["valid"] is True
    assert (result["type"], result["scope"], result["breaking"], result["body"]) == (
        "feat",
        "api",
        True,
        "Why it goes.",
    )
    assert result["footers"] == [
        {"token": "BREAKING CHANGE", "value": "v0 clients break"},
        {"token": "Refs", "value": "#4"},
    ]


async def test_validate_refuses_unknown_fields_and_oversized_messages(api, caller):
    alice = caller()
    unknown = await api.post(
        "/api/v1/commits/validate", json={"message": "fix: x", "x": 1}, headers=alice.headers
    )
    huge = await api.post("/api/v1/commits/validate", json={"message": "f" * 10_001}, headers=alice.headers)
    assert (unknown.status_code, huge.status_code) == (400, 400)


async def test_a_recorded_commit_is_parsed_stored_and_announced(api, caller, service_engine):
    alice = caller()
    project_id = await new_project(api, alice)
    answer = await record(api, alice, project_id, "ABCDEF1", "fix(cart): round totals\n\nRefs: #9")
    assert answer.status_code == 201, answer.text
    commit = answer.json()
    assert (commit["sha"], commit["type"], commit["scope"], commit["subject"]) == (
        "abcdef1",
        "fix",
        "cart",
        "round totals",
    )
    detail = await api.get(f"/api/v1/commits/{commit['id']}", headers=alice.headers)
    assert detail.json() == commit
    from sqlalchemy import text

    async with service_engine.connect() as conn:
        types = [row[0] for row in await conn.execute(text("SELECT event_type FROM outbox"))]
    assert "aiorch.orchestrator.commit.recorded.v1" in types


async def test_an_invalid_message_is_refused_with_every_violation_and_nothing_is_recorded(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    answer = await record(api, alice, project_id, "abcdef1", "Update: Stuff.")
    assert answer.status_code == 400
    problem = answer.json()
    assert {e["field"] for e in problem["errors"]} == {"$.message"}
    rules = {e["message"].split(":")[0] for e in problem["errors"]}
    assert {"type-enum", "subject-case", "subject-full-stop", "type-case"} <= rules
    listed = await api.get(f"/api/v1/projects/{project_id}/commits", headers=alice.headers)
    assert listed.json()["items"] == []


async def test_the_same_sha_twice_in_a_project_is_a_conflict(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    assert (await record(api, alice, project_id, "abcdef1", "feat: a")).status_code == 201
    assert (await record(api, alice, project_id, "ABCDEF1", "feat: b")).status_code == 409
    other = await new_project(api, alice, "Other")
    assert (await record(api, alice, other, "abcdef1", "feat: a")).status_code == 201


@pytest.mark.parametrize("sha", ["abc12", "x" * 7, "a" * 41])
async def test_a_sha_that_is_not_7_to_40_hex_digits_is_refused(api, caller, sha):
    alice = caller()
    project_id = await new_project(api, alice)
    assert (await record(api, alice, project_id, sha, "feat: a")).status_code == 400


async def test_another_users_project_and_commit_are_not_found(api, caller):
    alice, bob = caller(), caller()
    project_id = await new_project(api, alice)
    commit_id = (await record(api, alice, project_id, "abcdef1", "feat: a")).json()["id"]
    assert (await record(api, bob, project_id, "abcdef2", "feat: b")).status_code == 404
    assert (await api.get(f"/api/v1/projects/{project_id}/commits", headers=bob.headers)).status_code == 404
    assert (await api.get(f"/api/v1/projects/{project_id}/changelog", headers=bob.headers)).status_code == 404
    assert (await api.get(f"/api/v1/commits/{commit_id}", headers=bob.headers)).status_code == 404
    assert (await api.delete(f"/api/v1/commits/{commit_id}", headers=bob.headers)).status_code == 404
    assert (await api.get(f"/api/v1/commits/{commit_id}", headers=alice.headers)).status_code == 200


async def test_a_deleted_commit_is_gone(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    commit_id = (await record(api, alice, project_id, "abcdef1", "feat: a")).json()["id"]
    assert (await api.delete(f"/api/v1/commits/{commit_id}", headers=alice.headers)).status_code == 204
    assert (await api.get(f"/api/v1/commits/{commit_id}", headers=alice.headers)).status_code == 404


async def test_commits_list_newest_first_in_pages(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    for i in range(3):
        await record(api, alice, project_id, f"abcdef{i}", f"feat: change {i}", committed_at=at(i))
    first = (await api.get(f"/api/v1/projects/{project_id}/commits?limit=2", headers=alice.headers)).json()
    second = (
        await api.get(
            f"/api/v1/projects/{project_id}/commits?limit=2&cursor={first['next_cursor']}",
            headers=alice.headers,
        )
    ).json()
    assert [c["subject"] for c in first["items"] + second["items"]] == ["change 2", "change 1", "change 0"]
    assert second["next_cursor"] is None


async def test_the_changelog_groups_by_type_with_breaking_changes_first_since_a_sha(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    await record(api, alice, project_id, "0000001", "chore: start", committed_at=at(0))
    await record(api, alice, project_id, "0000002", "fix(cart): round totals", committed_at=at(1))
    await record(api, alice, project_id, "0000003", "feat(api)!: drop v0", committed_at=at(2))
    await record(api, alice, project_id, "0000004", "feat: add search", committed_at=at(3))
    log = (
        await api.get(f"/api/v1/projects/{project_id}/changelog?since_sha=0000001", headers=alice.headers)
    ).json()
    sections = [(s["title"], [e["sha"] for e in s["entries"]]) for s in log["sections"]]
    assert sections == [
        ("BREAKING CHANGES", ["0000003"]),
        ("Features", ["0000004", "0000003"]),
        ("Bug Fixes", ["0000002"]),
    ]


async def test_the_changelog_since_a_date_and_as_markdown(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    await record(api, alice, project_id, "0000001", "fix: old one", committed_at=at(0))
    await record(api, alice, project_id, "0000002", "feat(ui): add dark mode", committed_at=at(10))
    answer = await api.get(
        f"/api/v1/projects/{project_id}/changelog",
        params={"since": at(5)},
        headers={**alice.headers, "accept": "text/markdown"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/markdown")
    assert "### Features\n\n* **ui:** add dark mode (0000002)" in answer.text
    assert "old one" not in answer.text


async def test_a_changelog_since_an_unknown_sha_is_not_found(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    answer = await api.get(
        f"/api/v1/projects/{project_id}/changelog?since_sha=abcdef1", headers=alice.headers
    )
    assert answer.status_code == 404


async def test_generate_with_the_offline_model_writes_a_valid_message_for_the_task(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    task_id = await new_task(api, alice, project_id, "Add the login page")
    answer = await api.post(
        "/api/v1/commits/generate",
        json={
            "task_id": task_id,
            "diff_summary": "src/auth/login.py | 40 +++\nA login form with validation.",
        },
        headers=alice.headers,
    )
    assert answer.status_code == 200, answer.text
    generated = answer.json()
    assert generated["validation"]["valid"] is True
    assert generated["message"].startswith("feat(auth): add the login page")
    checked = await api.post(
        "/api/v1/commits/validate", json={"message": generated["message"]}, headers=alice.headers
    )
    assert checked.json()["valid"] is True
    recorded = await record(api, alice, project_id, "abcdef1", generated["message"], task_id=task_id)
    assert recorded.status_code == 201
    assert recorded.json()["task_id"] == task_id


async def test_generate_for_another_users_task_is_not_found(api, caller):
    alice, bob = caller(), caller()
    project_id = await new_project(api, alice)
    task_id = await new_task(api, alice, project_id)
    answer = await api.post(
        "/api/v1/commits/generate", json={"task_id": task_id, "diff_summary": "x"}, headers=bob.headers
    )
    assert answer.status_code == 404


async def test_a_changelog_since_both_a_sha_and_a_date_is_refused(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    answer = await api.get(
        f"/api/v1/projects/{project_id}/changelog",
        params={"since_sha": "abcdef1", "since": at(0)},
        headers=alice.headers,
    )
    assert answer.status_code == 400


async def test_a_tasks_commits_are_listed_newest_first_and_only_for_its_owner(api, caller):
    alice, bob = caller(), caller()
    project_id = await new_project(api, alice)
    task_id = await new_task(api, alice, project_id)
    await record(api, alice, project_id, "0000001", "feat: start login", task_id=task_id, committed_at=at(0))
    await record(api, alice, project_id, "0000002", "fix: unrelated", committed_at=at(1))
    await record(api, alice, project_id, "0000003", "fix: finish login", task_id=task_id, committed_at=at(2))
    listed = await api.get(f"/api/v1/tasks/{task_id}/commits", headers=alice.headers)
    assert [c["sha"] for c in listed.json()["items"]] == ["0000003", "0000001"]
    assert (await api.get(f"/api/v1/tasks/{task_id}/commits", headers=bob.headers)).status_code == 404


async def test_a_task_of_another_project_cannot_be_linked(api, caller):
    alice = caller()
    shop, blog = await new_project(api, alice), await new_project(api, alice, "Blog")
    blog_task = await new_task(api, alice, blog)
    answer = await record(api, alice, shop, "abcdef1", "feat: a", task_id=blog_task)
    assert answer.status_code == 404
