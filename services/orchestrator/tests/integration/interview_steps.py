"""Steps of the interview and prompt API tests: a project, an interview, a streamed question, an answer."""

from __future__ import annotations


async def new_project(api, who, name="Shop") -> str:
    answer = await api.post("/api/v1/projects", json={"name": name}, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


async def new_interview(api, who, project_id, **body) -> dict:
    answer = await api.post(f"/api/v1/projects/{project_id}/interviews", json=body, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def sse_events(body: str) -> list[tuple[str, str]]:
    """(event, data) of every message of a text/event-stream body."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").removeprefix(" "))
        if data:
            events.append((name, "\n".join(data)))
    return events


async def ask(api, who, interview_id) -> list[tuple[str, str]]:
    answer = await api.post(f"/api/v1/interviews/{interview_id}/questions", headers=who.headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/event-stream")
    return sse_events(answer.text)


async def answer(api, who, interview_id, content):
    return await api.post(
        f"/api/v1/interviews/{interview_id}/answers", json={"content": content}, headers=who.headers
    )


async def completed_interview(api, who, project_id) -> dict:
    interview = await new_interview(api, who, project_id, topic="an online shop", goal="sell handmade mugs")
    for reply in (
        "Small makers and their customers.",
        "Ten sales in the first month.",
        "Must run on a phone.",
    ):
        await ask(api, who, interview["id"])
        response = await answer(api, who, interview["id"], reply)
        assert response.status_code == 200, response.text
    return response.json()
