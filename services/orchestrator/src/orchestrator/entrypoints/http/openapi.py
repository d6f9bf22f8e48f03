"""The refusals orchestrator's operations document, in orchestrator's words where it is more precise."""

from __future__ import annotations

from typing import Final

from litestar.openapi.datastructures import ResponseSpec

from shared.http.openapi import problem_responses

_MEANINGS: Final = {
    404: "No such resource, or it is not yours.",
    502: "The AI model failed: it answered an error or output that stays invalid after a retry.",
    503: "The AI model is unavailable or rate-limited; retry after `Retry-After` seconds if given.",
    504: "The AI model did not answer in time.",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for ``statuses``, each a problem-details body."""
    return problem_responses(*statuses, meanings=_MEANINGS)
