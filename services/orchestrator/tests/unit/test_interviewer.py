"""The interviewer's model calls: structured answers checked, an invalid one asked once more, and
the offline writers' answers valid for their schemas."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from orchestrator.adapters.ai.offline_answers import WRITERS
from orchestrator.application import interviewer
from orchestrator.application.ports import ResolvedModel
from orchestrator.application.prompt_generation import brief, generation_request, parse_prompt
from orchestrator.domain.interviews import Assessment, ConversationMessage, Interview
from shared.ai.offline import OfflineModel
from shared.kernel.ai import ChatChunk, ChatCompletion, ChatRequest, ModelError, Usage
from shared.kernel.ids import new_id

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
VALID = json.dumps({"covered_areas": ["Users"], "open_questions": [], "summary": "A shop.", "complete": True})


class ScriptedModel:
    """Answers the scripted texts in turn, counting the calls."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        self.calls += 1
        return ChatCompletion(
            content=self.answers.pop(0),
            finish_reason="stop",
            usage=Usage(prompt_tokens=3, completion_tokens=4),
        )

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        raise NotImplementedError


def resolved(model) -> ResolvedModel:
    return ResolvedModel(id=None, name="scripted", provider="offline", model=model)


def interview_with(*turns: str) -> Interview:
    transcript = [
        ConversationMessage(role="assistant" if n % 2 == 0 else "user", content=text, created_at=NOW)
        for n, text in enumerate(turns)
    ]
    return Interview(
        id=new_id(),
        project_id=new_id(),
        owner_id=new_id(),
        transcript=transcript,
        created_at=NOW,
        updated_at=NOW,
    )


async def test_a_valid_assessment_is_read_at_the_first_answer():
    model = ScriptedModel(VALID)
    request = interviewer.assessment_request(resolved(model), "Project: Shop.", [], finishing=False)

    assessment, usage = await interviewer.structured(resolved(model), request, interviewer.parse_assessment)

    assert assessment == Assessment(
        covered_areas=("Users",), open_questions=(), summary="A shop.", complete=True
    )
    assert (model.calls, usage) == (1, Usage(prompt_tokens=3, completion_tokens=4))


async def test_an_invalid_answer_is_asked_for_once_more_and_the_tokens_of_both_count():
    model = ScriptedModel("not json", VALID)
    request = interviewer.assessment_request(resolved(model), "Project: Shop.", [], finishing=False)

    _, usage = await interviewer.structured(resolved(model), request, interviewer.parse_assessment)

    assert (model.calls, usage) == (2, Usage(prompt_tokens=6, completion_tokens=8))


@pytest.mark.parametrize(
    "second",
    [
        "[]",
        json.dumps({"covered_areas": ["ok"], "open_questions": [], "summary": "", "complete": True}),
        json.dumps({"covered_areas": [1], "open_questions": [], "summary": "s", "complete": True}),
        json.dumps({"covered_areas": [], "open_questions": [], "summary": "s", "complete": "yes"}),
    ],
)
async def test_an_answer_invalid_twice_is_a_model_error(second):
    model = ScriptedModel("{}", second)
    request = interviewer.assessment_request(resolved(model), "Project: Shop.", [], finishing=False)

    with pytest.raises(ModelError, match="invalid after a retry"):
        await interviewer.structured(resolved(model), request, interviewer.parse_assessment)


def offline() -> ResolvedModel:
    return resolved(OfflineModel(writers=WRITERS))


async def test_the_offline_assessment_completes_at_three_answers_and_covers_what_was_asked():
    two = interview_with("Who will use it?", "Makers.", "What would make it a success?", "Ten sales.")
    three = interview_with(*[m.content for m in two.transcript], "Which constraints apply?", "Phones only.")

    results = []
    for i in (two, three):
        request = interviewer.assessment_request(offline(), "Project: Shop.", i.transcript, finishing=False)
        results.append((await interviewer.structured(offline(), request, interviewer.parse_assessment))[0])

    assert [r.complete for r in results] == [False, True]
    assert results[1].covered_areas == ("Users and their needs", "Goals and success criteria", "Constraints")
    assert "Phones only." in results[1].summary
    assert results[1].open_questions


async def test_the_offline_assessment_completes_when_the_owner_ends_it():
    one = interview_with("Who will use it?", "Makers.")
    request = interviewer.assessment_request(offline(), "Project: Shop.", one.transcript, finishing=True)

    assessment, _ = await interviewer.structured(offline(), request, interviewer.parse_assessment)

    assert assessment.complete


async def test_the_offline_prompt_lays_out_the_answers_as_requirements():
    done = interview_with("Who will use it?", "Makers.", "What must it not do?", "No auctions.")
    done.assessment = Assessment(
        covered_areas=("Users", "Out of scope"),
        open_questions=("Budget",),
        summary="A mug shop.",
        complete=True,
    )

    title, content = (
        await interviewer.structured(
            offline(), generation_request(offline(), brief("Shop", done)), parse_prompt
        )
    )[0]

    assert title == "Shop requirements"
    assert content.startswith("# Requirements: Shop\n\n## Overview\n\nA mug shop.")
    assert "- No auctions. (asked: What must it not do?)" in content
    assert "## Open questions\n\n- Budget" in content


def test_text_a_model_writes_loses_its_nul_characters_and_a_long_title_is_clipped():
    title, content = parse_prompt(json.dumps({"title": "T" * 300, "content": "a\u0000b"}))

    assert content == "ab\n"
    assert len(title) == 200
    assert title.endswith("…")


def test_the_next_question_is_steered_to_what_the_last_assessment_left_open():
    judged = Assessment(
        covered_areas=("Users",), open_questions=("Budget", "Hosting"), summary="s", complete=False
    )

    first = interviewer.question_request(offline(), "Project: Shop.", [])
    later = interviewer.question_request(offline(), "Project: Shop.", [], judged)

    assert "Still open" not in first.messages[0].content
    assert "Covered so far: Users. Still open: Budget; Hosting." in later.messages[0].content
    assert later.messages[1].content == "Project: Shop."
