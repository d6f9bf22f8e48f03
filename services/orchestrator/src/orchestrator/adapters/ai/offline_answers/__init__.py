"""What the built-in offline model answers to orchestrator's structured requests.

The offline model (``shared.ai.offline``) needs no key and no network; for a request with a
JSON schema it looks up a writer by the schema's ``title`` and streams what the writer
returns. Each use case that asks for structured output registers its writer here, so the
whole flow (interview → prompt → tasks → commit message) works offline with *valid*
answers, deterministically.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from orchestrator.adapters.ai.offline_answers.commits import write_commit_message
from orchestrator.adapters.ai.offline_answers.interviews import write_assessment, write_requirements_prompt
from orchestrator.adapters.ai.offline_answers.tasks import write_task_plan
from shared.kernel.ai import ChatRequest

AnswerWriter = Callable[[ChatRequest], str]

WRITERS: Final[Mapping[str, AnswerWriter]] = {
    "commit_message": write_commit_message,
    "task_plan": write_task_plan,
    "interview_assessment": write_assessment,
    "requirements_prompt": write_requirements_prompt,
}
"""Schema title → the writer of a valid answer for it (each area adds its entries)."""
