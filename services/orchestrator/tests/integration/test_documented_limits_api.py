"""What the OpenAPI document states is what the API enforces, at the edges schemathesis found:
If-Match is a quoted version or `*`, a changelog's `since` an RFC 3339 time with its offset, a
prompt within its documented length is never too large, an optional field keeps its limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.asyncio


async def new_project(api, who) -> str:
    answer = await api.post("/api/v1/projects", json={"name": "Limits"}, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


@pytest.mark.parametrize("if_match", ["null", "0", 'W/"1"', '"1", "2"', '"abc"'])
async def test_an_if_match_that_is_no_quoted_version_nor_a_star_is_a_400_changing_nothing(
    api, caller, if_match
):
    alice = caller()
    project = await new_project(api, alice)
    task = (
        await api.post(f"/api/v1/projects/{project}/tasks", json={"title": "T"}, headers=alice.headers)
    ).json()

    answer = await api.patch(
        f"/api/v1/tasks/{task['id']}",
        json={"title": "Changed"},
        headers={**alice.headers, "if-match": if_match},
    )

    assert answer.status_code == 400, answer.text
    assert (await api.get(f"/api/v1/tasks/{task['id']}", headers=alice.headers)).json()["title"] == "T"


@pytest.mark.parametrize("if_match", ['"1"', ' "1" ', "*"])
async def test_a_quoted_version_or_a_star_is_an_if_match_the_api_reads(api, caller, if_match):
    alice = caller()
    project = await new_project(api, alice)
    task = (
        await api.post(f"/api/v1/projects/{project}/tasks", json={"title": "T"}, headers=alice.headers)
    ).json()

    answer = await api.patch(
        f"/api/v1/tasks/{task['id']}",
        json={"title": "Changed"},
        headers={**alice.headers, "if-match": if_match},
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["title"] == "Changed"


@pytest.mark.parametrize("since", ["0.5", "1700000000", "2026-01-31T09:00:00", "2026-01-31", "yesterday"])
async def test_a_changelog_since_what_is_no_rfc_3339_time_with_an_offset_is_a_400(api, caller, since):
    alice = caller()
    project = await new_project(api, alice)

    answer = await api.get(
        f"/api/v1/projects/{project}/changelog", params={"since": since}, headers=alice.headers
    )

    assert answer.status_code == 400, answer.text


async def test_a_changelog_since_an_rfc_3339_time_with_an_offset_is_read(api, caller):
    alice = caller()
    project = await new_project(api, alice)

    answer = await api.get(
        f"/api/v1/projects/{project}/changelog",
        params={"since": "2026-01-31T10:00:00+01:00"},
        headers=alice.headers,
    )

    assert answer.status_code == 200, answer.text
    assert datetime.fromisoformat(answer.json()["since"]) == datetime(2026, 1, 31, 9, tzinfo=UTC)


async def test_a_prompt_of_the_longest_documented_content_is_written_not_refused_as_too_large(api, caller):
    alice = caller()
    project = await new_project(api, alice)
    content = "\u00e9\U0001f600" * 50_000  # 100 000 characters, 300 000 bytes of UTF-8

    answer = await api.post(
        f"/api/v1/projects/{project}/prompts",
        json={"title": "Long", "content": content},
        headers=alice.headers,
    )

    assert answer.status_code == 201, answer.text[:300]


async def test_an_optional_name_keeps_its_documented_limits(api, caller):
    alice = caller()
    project = await new_project(api, alice)

    empty = await api.patch(f"/api/v1/projects/{project}", json={"name": ""}, headers=alice.headers)
    long = await api.patch(f"/api/v1/projects/{project}", json={"name": "n" * 201}, headers=alice.headers)

    assert (empty.status_code, long.status_code) == (400, 400)
