"""The refusals chat's operations document, in chat's words where it is more precise."""

from __future__ import annotations

from typing import Final

from litestar.openapi.datastructures import ResponseSpec

from shared.http.openapi import problem_responses

_MEANINGS: Final = {
    404: "No such resource, or it is not yours.",
    422: "The body names something you cannot use here (the problem's `errors` name the field).",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for ``statuses``, each a problem-details body."""
    return problem_responses(*statuses, meanings=_MEANINGS)
