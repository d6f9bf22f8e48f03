"""The refusals identity's operations document: the chassis' problem responses, in identity's words.

``problems(400, 401)`` is ``shared.http.openapi.problem_responses`` with the meanings below
where identity is more precise than the shared wording (which attempts count towards a 429,
which upstream a 502 names).
"""

from __future__ import annotations

from typing import Final

from litestar.openapi.datastructures import ResponseSpec

from shared.http.openapi import problem_responses

_MEANINGS: Final = {
    429: "Too many failed attempts or mailed links; retry after `Retry-After` seconds.",
    502: "The OIDC provider cannot be reached.",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for ``statuses``, each a problem-details body."""
    return problem_responses(*statuses, meanings=_MEANINGS)
