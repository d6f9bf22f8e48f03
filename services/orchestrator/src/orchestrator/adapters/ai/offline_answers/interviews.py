"""The offline model's answers for interviews: the assessment, and the prompt generated from one.

Deterministic and valid for their schemas, derived from the request's messages only: an
interview is judged complete once it has three answers (or when its owner ends it), and
the generated prompt is the interview's summary and answers laid out as requirements.
"""

from __future__ import annotations

import json
from typing import Final

from orchestrator.application import prompt_generation as generation
from orchestrator.application.interviewer import MAX_ITEM_CHARS, MAX_SUMMARY_CHARS
from shared.kernel.ai import ChatRequest

ANSWERS_TO_COMPLETE: Final = 3
# (words a question uses, the requirement area it covers), in the order an analyst asks them
_AREAS: Final = (
    (("who", "user", "audience", "customer"), "Users and their needs"),
    (("success", "goal", "first release", "measure"), "Goals and success criteria"),
    (("constraint", "deadline", "platform", "integration", "budget"), "Constraints"),
    (("not do", "out of scope", "exclude"), "Out of scope"),
    (("data", "store", "privacy"), "Data"),
)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _area(question: str, number: int) -> str:
    lowered = question.lower()
    for words, area in _AREAS:
        if any(word in lowered for word in words):
            return area
    return _clip(f"Answer {number}: {question}", MAX_ITEM_CHARS)


def write_assessment(request: ChatRequest) -> str:
    """Covered areas from the questions answered, open ones from those not yet asked about."""
    system = " ".join(m.content for m in request.messages if m.role == "system").lower()
    users = [m.content for m in request.messages if m.role == "user"]
    intro, answers = (users[0], users[1:]) if users else ("", [])
    questions = [m.content for m in request.messages if m.role == "assistant"]
    covered: list[str] = []
    for number, (question, _) in enumerate(zip(questions, answers, strict=False), start=1):
        area = _area(question, number)
        if area not in covered:
            covered.append(area)
    open_questions = [f"{area}: not discussed yet" for _, area in _AREAS if area not in covered][:3]
    said = " ".join(_clip(answer, 300) for answer in answers) or "No answer yet."
    summary = _clip(f"{intro} What the owner said: {said}", MAX_SUMMARY_CHARS)
    complete = "ended" in system or len(answers) >= ANSWERS_TO_COMPLETE
    return json.dumps(
        {
            "covered_areas": covered,
            "open_questions": open_questions,
            "summary": summary,
            "complete": complete,
        },
        ensure_ascii=False,
    )


def write_requirements_prompt(request: ChatRequest) -> str:
    """The brief's summary, answers and open questions laid out as a Markdown requirements prompt."""
    brief = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    project, summary, covered, open_questions = "the project", "", "", ""
    pairs: list[list[str]] = []
    for line in brief.splitlines():
        if line.startswith("Project: "):
            project = line.removeprefix("Project: ").strip() or project
        elif line.startswith(generation.SUMMARY):
            summary = line.removeprefix(generation.SUMMARY)
        elif line.startswith(generation.COVERED):
            covered = line.removeprefix(generation.COVERED)
        elif line.startswith(generation.OPEN):
            open_questions = line.removeprefix(generation.OPEN)
        elif line.startswith(generation.QUESTION):
            pairs.append([line.removeprefix(generation.QUESTION), ""])
        elif line.startswith(generation.ANSWER) and pairs:
            pairs[-1][1] = line.removeprefix(generation.ANSWER)
    sections = [f"# Requirements: {project}", "", "## Overview", "", summary or f"Build {project}."]
    sections += ["", "## Requirements from the interview", ""]
    sections += [f"- {answer} (asked: {question})" for question, answer in pairs if answer] or [
        "- None stated."
    ]
    if covered:
        sections += ["", "## Covered areas", ""] + [f"- {area}" for area in covered.split("; ") if area]
    if open_questions:
        sections += ["", "## Open questions", ""] + [
            f"- {item}" for item in open_questions.split("; ") if item
        ]
    sections += [
        "",
        "## Deliverable",
        "",
        "Plan the work as small, testable tasks in dependency order, then implement them.",
    ]
    return json.dumps({"title": _clip(f"{project} requirements", 200), "content": "\n".join(sections)})
