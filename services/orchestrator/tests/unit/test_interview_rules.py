"""An interview's rules: one question at a time, statuses only forward, writes based on a stale
transcript refused, and the completion event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator.domain.interviews import (
    MAX_QUESTIONS,
    Assessment,
    Interview,
    InterviewCancelled,
    InterviewCompleted,
    InterviewCreated,
    InterviewDeleted,
)
from shared.kernel.ai import Usage
from shared.kernel.errors import Conflict
from shared.kernel.ids import new_id

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
USED = Usage(prompt_tokens=10, completion_tokens=5)


def assessment(*, complete: bool) -> Assessment:
    return Assessment(
        covered_areas=("Users",), open_questions=("Budget?",), summary="A shop.", complete=complete
    )


def interview() -> Interview:
    return Interview(id=new_id(), project_id=new_id(), owner_id=new_id(), created_at=NOW, updated_at=NOW)


def asked(i: Interview, question: str = "Who uses it?") -> Interview:
    i.ask(question, based_on=len(i.transcript), model="offline", usage=USED, now=NOW)
    return i


def test_the_first_question_moves_it_from_pending_to_in_progress_and_counts_its_tokens():
    i = asked(interview())

    assert i.status == "in_progress"
    assert i.question_pending
    assert (i.prompt_tokens, i.completion_tokens, i.model) == (10, 5, "offline")


def test_a_second_question_waits_for_the_answer_to_the_first():
    i = asked(interview())

    with pytest.raises(Conflict, match="waiting for its answer"):
        asked(i)


def test_an_answer_needs_a_waiting_question():
    with pytest.raises(Conflict, match="no question waiting"):
        interview().answer("too soon", NOW)


def test_a_question_written_from_a_transcript_that_changed_is_refused():
    i = asked(interview())
    stale = len(i.transcript)
    i.answer("Makers.", NOW)

    with pytest.raises(Conflict, match="changed while the model was writing"):
        i.ask("Late question?", based_on=stale, model="offline", usage=USED, now=NOW)


def test_an_assessment_that_says_complete_completes_it_with_one_event():
    i = asked(interview())
    i.answer("Makers.", NOW)

    i.assess(assessment(complete=True), based_on=2, model="offline", usage=USED, now=NOW)

    assert i.status == "completed"
    assert i.completed_at == NOW
    [event] = i.pull_events()
    assert isinstance(event, InterviewCompleted)
    assert (event.finished_by, event.questions, event.answers, event.covered_areas, event.open_questions) == (
        "model",
        1,
        1,
        1,
        1,
    )


def test_an_assessment_that_is_not_complete_keeps_it_going():
    i = asked(interview())
    i.answer("Makers.", NOW)

    i.assess(assessment(complete=False), based_on=2, model="offline", usage=USED, now=NOW)

    assert i.status == "in_progress"
    assert i.assessment == assessment(complete=False)
    assert i.pull_events() == []


@pytest.mark.parametrize("end", ["cancel", "complete"])
def test_completed_and_cancelled_are_final(end):
    i = asked(interview())
    i.answer("Makers.", NOW)
    if end == "cancel":
        i.cancel(NOW)
    else:
        i.finish(assessment(complete=False), based_on=2, model="offline", usage=USED, now=NOW)

    with pytest.raises(Conflict):
        asked(i)
    with pytest.raises(Conflict):
        i.cancel(NOW)
    with pytest.raises(Conflict):
        i.finish(assessment(complete=True), based_on=2, model="offline", usage=USED, now=NOW)


def test_finishing_needs_an_answer_and_completes_whatever_the_model_judged():
    i = asked(interview())
    with pytest.raises(Conflict, match="no answer yet"):
        i.finish(assessment(complete=False), based_on=1, model="offline", usage=USED, now=NOW)
    i.answer("Makers.", NOW)

    i.finish(assessment(complete=False), based_on=2, model="offline", usage=USED, now=NOW)

    assert i.status == "completed"
    assert [e.finished_by for e in i.pull_events() if isinstance(e, InterviewCompleted)] == ["user"]


def test_questions_stop_at_the_limit():
    i = interview()
    for n in range(MAX_QUESTIONS):
        asked(i, f"Question {n}?")
        i.answer(f"Answer {n}.", NOW)

    with pytest.raises(Conflict, match="finish it"):
        asked(i)


def test_the_answer_to_the_last_question_allowed_completes_it_whatever_the_model_judged():
    i = interview()
    i.ask("Who uses it?", based_on=0, model="offline", usage=USED, now=NOW, max_questions=1)
    i.answer("Makers.", NOW)

    i.assess(assessment(complete=False), based_on=2, model="offline", usage=USED, now=NOW, max_questions=1)

    assert i.status == "completed"
    assert [e.finished_by for e in i.pull_events() if isinstance(e, InterviewCompleted)] == ["model"]


def test_starting_cancelling_and_deleting_are_announced():
    i = Interview.start(id=new_id(), project_id=new_id(), owner_id=new_id(), topic="t", goal="g", now=NOW)
    asked(i)
    i.cancel(NOW)
    i.delete(NOW)

    created, cancelled, deleted = i.pull_events()
    assert isinstance(created, InterviewCreated)
    assert isinstance(cancelled, InterviewCancelled)
    assert (cancelled.questions, cancelled.answers) == (1, 0)
    assert isinstance(deleted, InterviewDeleted)
    assert deleted.status == "cancelled"
