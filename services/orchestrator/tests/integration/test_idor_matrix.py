"""IDOR matrix: user B gets 404 on every id-taking operation of user A's resources, and users
get 403 on every admin write.

Driven by the service's own OpenAPI document, so an operation added later cannot escape it:
every operation with a path parameter, or a body naming another resource, must be listed
below with a valid request for B, or the matrix fails and says which one is missing. A
valid body matters: a 400 for a malformed body would hide a missing ownership check.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import pytest
from services.orchestrator.tests.integration.interview_steps import completed_interview, new_project

pytestmark = pytest.mark.asyncio

SHA = "0123456789abcdef0123456789abcdef01234567"
MESSAGE = "feat(api): add the board"

# operation id -> (body for B, built from A's ids) for operations that take a body
BODIES: dict[str, Any] = {
    "update_project": lambda a: {"name": "mine now"},
    "create_interview": lambda a: {"topic": "steal"},
    "update_interview": lambda a: {"topic": "steal"},
    "answer_interview_question": lambda a: {"content": "an answer"},
    "create_prompt": lambda a: {"title": "t", "content": "c"},
    "generate_prompt": lambda a: {"interview_id": a["interview_id"]},
    "edit_prompt": lambda a: {"content": "edited"},
    "move_prompt_label": lambda a: {"version": 1},
    "create_task": lambda a: {"title": "t"},
    "generate_tasks": lambda a: {"prompt_id": a["prompt_id"], "num_tasks": 2, "mode": "append"},
    "update_task": lambda a: {"title": "t2"},
    "move_task": lambda a: {"status": "done"},
    "set_task_dependencies": lambda a: {"dependencies": []},
    "record_commit": lambda a: {"sha": SHA, "message": MESSAGE},
}
# operations whose body names A's resource while the path is B's own (or has no id)
BODY_REFERENCES: dict[str, Any] = {
    "generate_prompt": lambda a, b: (
        f"/api/v1/projects/{b['project_id']}/prompts/generate",
        {"interview_id": a["interview_id"]},
    ),
    "generate_tasks": lambda a, b: (
        f"/api/v1/projects/{b['project_id']}/tasks/generate",
        {"prompt_id": a["prompt_id"], "num_tasks": 2, "mode": "append"},
    ),
    "create_task": lambda a, b: (
        f"/api/v1/projects/{b['project_id']}/tasks",
        {"title": "t", "dependencies": [a["task_id"]]},
    ),
    "record_commit": lambda a, b: (
        f"/api/v1/projects/{b['project_id']}/commits",
        {"sha": SHA, "message": MESSAGE, "task_id": a["task_id"]},
    ),
    "generate_commit_message": lambda a, b: (
        "/api/v1/commits/generate",
        {"task_id": a["task_id"], "diff_summary": "src/app.py: +10 -2"},
    ),
}
ADMIN_ONLY = {
    "create_ai_model",
    "update_ai_model",
    "delete_ai_model",
    "test_ai_model",
    "update_settings",
    "settings_audit",
}
NOT_OWNED = {"get_ai_model"}
QUERIES = {
    "diff_prompt_versions": {"from": 1, "to": 1}
}  # the registry is global: users read enabled models, admins write


UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def ids_out(answer) -> str:
    """The problem's detail with its ids blanked."""
    return UUID_TEXT.sub("<id>", answer.json().get("detail", ""))


def operations(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append((method.upper(), path, operation["operationId"], operation))
    return found


async def resources_of(api, who) -> dict[str, str]:
    """One of each of ``who``'s resources, made through the API."""
    project_id = await new_project(api, who)
    interview = (await completed_interview(api, who, project_id))["interview"]
    prompt = await api.post(
        f"/api/v1/projects/{project_id}/prompts/generate",
        json={"interview_id": interview["id"]},
        headers=who.headers,
    )
    assert prompt.status_code == 201, prompt.text
    task = await api.post(
        f"/api/v1/projects/{project_id}/tasks", json={"title": "first"}, headers=who.headers
    )
    assert task.status_code == 201, task.text
    commit = await api.post(
        f"/api/v1/projects/{project_id}/commits", json={"sha": SHA, "message": MESSAGE}, headers=who.headers
    )
    assert commit.status_code == 201, commit.text
    return {
        "project_id": project_id,
        "interview_id": interview["id"],
        "prompt_id": prompt.json()["id"],
        "task_id": task.json()["id"],
        "commit_id": commit.json()["id"],
        "name": "current",
    }


async def test_user_b_gets_404_on_every_id_taking_operation_of_user_as_resources(api, caller):
    alice, bob = caller(), caller()
    a = await resources_of(api, alice)
    b = {"project_id": await new_project(api, bob)}
    document = (await api.get("/schema/openapi.json")).json()

    checked, refused = [], []
    for method, path, operation_id, operation in operations(document):
        params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        if not params or operation_id in ADMIN_ONLY | NOT_OWNED:
            continue
        missing = [p for p in params if p not in a]
        assert not missing, f"{operation_id}: no id of A's for path parameter(s) {missing}: add one"
        has_body = "requestBody" in operation
        assert not has_body or operation_id in BODIES, f"{operation_id}: add a valid body for B to BODIES"
        url = path.format(**a)
        body = BODIES[operation_id](a) if has_body else None
        answer = await api.request(
            method, url, json=body, params=QUERIES.get(operation_id), headers={**bob.headers, "If-Match": "*"}
        )
        checked.append(operation_id)
        if answer.status_code != 404:
            refused.append(f"{method} {path} ({operation_id}): {answer.status_code} {answer.text[:200]}")
        else:
            assert answer.headers["content-type"].startswith("application/problem+json"), operation_id

    # A's id in B's body is answered exactly as an id that exists nowhere: no existence oracle
    nowhere = {key: str(uuid4()) for key in a} | {"name": "current"}
    for operation_id, build in BODY_REFERENCES.items():
        url, body = build(a, b)
        answer = await api.post(url, json=body, headers=bob.headers)
        unknown = await api.post(url, json=build(nowhere, b)[1], headers=bob.headers)
        checked.append(f"{operation_id} (A's id in B's body)")
        same = answer.status_code == unknown.status_code
        if answer.status_code not in (400, 404) or not same or ids_out(answer) != ids_out(unknown):
            refused.append(
                f"{operation_id} with A's id in the body: {answer.status_code} {answer.text[:200]}"
                f" / with an unknown id: {unknown.status_code} {unknown.text[:200]}"
            )

    print(f"\nIDOR matrix: {len(checked)} requests of B on A's ids, {len(refused)} not 404")
    assert not refused, "\n".join(refused)
    # and A's resources are untouched: everything B tried was refused before it changed anything
    board = await api.get(f"/api/v1/projects/{a['project_id']}/tasks", headers=alice.headers)
    project = await api.get(f"/api/v1/projects/{a['project_id']}", headers=alice.headers)
    assert board.status_code == 200
    assert project.json()["name"] == "Shop"


async def test_a_user_gets_403_on_every_admin_write_and_the_audit(api, caller):
    admin, user = caller("admin"), caller()
    created = await api.post(
        "/api/v1/ai-models",
        json={"name": "m", "provider": "offline", "model": "offline", "enabled": True},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    model_id = created.json()["id"]
    requests = [
        ("POST", "/api/v1/ai-models", {"name": "x", "provider": "offline", "model": "offline"}),
        ("PATCH", f"/api/v1/ai-models/{model_id}", {"enabled": False}),
        ("DELETE", f"/api/v1/ai-models/{model_id}", None),
        ("POST", f"/api/v1/ai-models/{model_id}/test", None),
        ("PUT", "/api/v1/settings", {"values": {"interview.max_questions": 5}}),
        ("GET", "/api/v1/settings/audit", None),
    ]
    statuses = {}
    for method, url, body in requests:
        answer = await api.request(method, url, json=body, headers=user.headers)
        statuses[f"{method} {url}"] = answer.status_code
    assert set(statuses.values()) == {403}, statuses
    assert (await api.get(f"/api/v1/ai-models/{model_id}", headers=admin.headers)).json()["enabled"] is True
