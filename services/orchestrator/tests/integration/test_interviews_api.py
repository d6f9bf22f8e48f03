"""Requirement interviews over HTTP with the offline model, on real PostgreSQL and NATS."""

from __future__ import annotations

import json

import pytest
from services.orchestrator.tests.integration.interview_steps import (
    answer,
    ask,
    completed_interview,
    new_interview,
    new_project,
    sse_events,
)
from sqlalchemy import text

pytestmark = pytest.mark.asyncio


async def test_a_question_streams_in_several_chunks_then_lands_in_the_transcript(api, caller):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice), topic="a shop")

    response = await api.post(f"/api/v1/interviews/{interview['id']}/questions", headers=alice.headers)
    events = sse_events(response.text)

    assert response.headers["cache-control"] == "no-cache, no-transform"
    assert response.headers["x-accel-buffering"] == "no"
    chunks = [json.loads(data)["delta"] for name, data in events if name == "chunk"]
    assert len(chunks) > 3
    assert events[-1][0] == "done"
    done = json.loads(events[-1][1])
    assert done["question"] == "".join(chunks).strip()
    assert done["question"].endswith("?")
    assert done["status"] == "in_progress"
    assert done["usage"]["completion_tokens"] > 0
    stored = (await api.get(f"/api/v1/interviews/{interview['id']}", headers=alice.headers)).json()
    assert [m["role"] for m in stored["transcript"]] == ["assistant"]
    assert stored["transcript"][0]["content"] == done["question"]
    assert stored["question_pending"]


async def test_three_answers_complete_the_interview_with_an_assessment_and_an_event(
    api, caller, service_engine
):
    alice = caller()
    project_id = await new_project(api, alice)

    last = await completed_interview(api, alice, project_id)

    assert last["completed"] is True
    interview = last["interview"]
    assert interview["status"] == "completed"
    assert interview["completed_at"]
    assert (interview["questions"], interview["answers"]) == (3, 3)
    assessment = interview["assessment"]
    assert assessment["complete"]
    assert assessment["covered_areas"]
    assert "Ten sales" in assessment["summary"]
    assert interview["usage"]["total_tokens"] > 0
    assert interview["model"] == "offline"
    async with service_engine.connect() as conn:
        types = (await conn.execute(text("SELECT event_type FROM outbox ORDER BY id"))).scalars().all()
    assert types.count("aiorch.orchestrator.interview.completed.v1") == 1


async def test_an_answer_before_a_question_and_a_second_question_are_refused(api, caller):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice))

    early = await answer(api, alice, interview["id"], "too soon")
    await ask(api, alice, interview["id"])
    twice = await api.post(f"/api/v1/interviews/{interview['id']}/questions", headers=alice.headers)

    assert early.status_code == 409
    assert early.headers["content-type"] == "application/problem+json"
    assert twice.status_code == 409


async def test_a_cancelled_interview_refuses_answers_questions_and_finishing(api, caller):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice))
    await ask(api, alice, interview["id"])

    cancelled = await api.post(f"/api/v1/interviews/{interview['id']}/cancel", headers=alice.headers)

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert (await answer(api, alice, interview["id"], "an answer")).status_code == 409
    assert (
        await api.post(f"/api/v1/interviews/{interview['id']}/questions", headers=alice.headers)
    ).status_code == 409
    assert (
        await api.post(f"/api/v1/interviews/{interview['id']}/finish", headers=alice.headers)
    ).status_code == 409
    assert (
        await api.post(f"/api/v1/interviews/{interview['id']}/cancel", headers=alice.headers)
    ).status_code == 409


async def test_finishing_writes_the_assessment_and_completes(api, caller):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice))
    await ask(api, alice, interview["id"])
    assert (await answer(api, alice, interview["id"], "People who sell mugs.")).json()["completed"] is False

    finished = await api.post(f"/api/v1/interviews/{interview['id']}/finish", headers=alice.headers)

    assert finished.status_code == 200, finished.text
    body = finished.json()
    assert body["status"] == "completed"
    assert body["assessment"]["summary"]


async def test_an_answer_too_long_or_with_unknown_fields_is_a_400_with_the_field(api, caller):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice))
    await ask(api, alice, interview["id"])

    too_long = await answer(api, alice, interview["id"], "x" * 4001)
    unknown = await api.post(
        f"/api/v1/interviews/{interview['id']}/answers",
        json={"content": "a", "role": "assistant"},
        headers=alice.headers,
    )

    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["field"] == "$.content"
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "$.role"


async def test_the_projects_interviews_are_listed_newest_first(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    first = await new_interview(api, alice, project_id, topic="first")
    second = await new_interview(api, alice, project_id, topic="second")

    page = (await api.get(f"/api/v1/projects/{project_id}/interviews?limit=1", headers=alice.headers)).json()
    rest = (
        await api.get(
            f"/api/v1/projects/{project_id}/interviews?limit=1&cursor={page['next_cursor']}",
            headers=alice.headers,
        )
    ).json()

    assert [i["id"] for i in page["items"] + rest["items"]] == [second["id"], first["id"]]
    assert rest["next_cursor"] is None


async def test_another_users_interview_is_not_found_on_every_route(api, caller):
    alice, mallory = caller(), caller()
    project_id = await new_project(api, alice)
    interview = await new_interview(api, alice, project_id)
    await ask(api, alice, interview["id"])
    base = f"/api/v1/interviews/{interview['id']}"

    answers = [
        await api.get(base, headers=mallory.headers),
        await api.post(f"{base}/questions", headers=mallory.headers),
        await api.post(f"{base}/answers", json={"content": "hi"}, headers=mallory.headers),
        await api.post(f"{base}/finish", headers=mallory.headers),
        await api.post(f"{base}/cancel", headers=mallory.headers),
        await api.patch(base, json={"topic": "mine"}, headers=mallory.headers),
        await api.delete(base, headers=mallory.headers),
        await api.get(f"/api/v1/projects/{project_id}/interviews", headers=mallory.headers),
        await api.post(f"/api/v1/projects/{project_id}/interviews", json={}, headers=mallory.headers),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    still = (await api.get(base, headers=alice.headers)).json()
    assert still["status"] == "in_progress"
    assert len(still["transcript"]) == 1


async def test_deleting_an_interview_removes_it(api, caller, service_engine):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice))

    deleted = await api.delete(f"/api/v1/interviews/{interview['id']}", headers=alice.headers)

    assert deleted.status_code == 204
    assert (await api.get(f"/api/v1/interviews/{interview['id']}", headers=alice.headers)).status_code == 404
    async with service_engine.connect() as conn:
        types = (await conn.execute(text("SELECT event_type FROM outbox ORDER BY id"))).scalars().all()
    assert [t for t in types if ".interview." in t] == [
        "aiorch.orchestrator.interview.created.v1",
        "aiorch.orchestrator.interview.deleted.v1",
    ]


async def test_the_max_questions_setting_caps_the_interview_and_its_last_answer_completes_it(api, caller):
    admin, alice = caller("admin"), caller()
    setting = await api.put(
        "/api/v1/settings", json={"values": {"interview.max_questions": 1}}, headers=admin.headers
    )
    assert setting.status_code == 200, setting.text
    interview = await new_interview(api, alice, await new_project(api, alice))
    await ask(api, alice, interview["id"])

    last = await answer(api, alice, interview["id"], "Makers.")

    assert last.json()["completed"] is True
    assert last.json()["interview"]["questions"] == 1
    again = await api.post(f"/api/v1/interviews/{interview['id']}/questions", headers=alice.headers)
    assert again.status_code == 409


async def test_topic_and_goal_change_while_open_and_not_once_final(api, caller):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice), topic="a shop", goal="sell")
    base = f"/api/v1/interviews/{interview['id']}"

    changed = await api.patch(base, json={"goal": "sell mugs"}, headers=alice.headers)
    await api.post(f"{base}/cancel", headers=alice.headers)
    refused = await api.patch(base, json={"topic": "too late"}, headers=alice.headers)

    assert changed.status_code == 200
    assert (changed.json()["topic"], changed.json()["goal"]) == ("a shop", "sell mugs")
    assert refused.status_code == 409
